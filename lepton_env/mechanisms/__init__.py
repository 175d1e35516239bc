"""One module per mechanism of the model; each is a pure function over the batch."""
