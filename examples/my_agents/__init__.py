"""A user's own agents, outside the lepton-env packages (README: "Plug in your own agent")."""
