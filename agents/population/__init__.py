"""Population training of rival firms through ``lepton-train multiagent=...``.

* :mod:`.selfplay`: one shared policy in every seat against its frozen snapshots;
* :mod:`.psro`: a double-oracle loop with an exact or learned oracle;
* :mod:`.independent`: one policy per seat, trained at once;
* :mod:`.launch`: the run directory, TensorBoard and resume; :mod:`.rounds`: the round
  loop of SB3 learners; :mod:`.seats`, :mod:`.snapshots`, :mod:`.strategy_files`,
  :mod:`.common`: the pieces they share.
"""
