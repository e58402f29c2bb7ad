"""`make bench`: latency, throughput, memory and accuracy of the assistant and two baselines.

One module per concern: `stats` (percentiles), `tfidf` (baseline a, in process), `systems`
(starting, sizing and training the Rasa stacks), `load` (REST measures: one user, concurrent
conversations, the 100 000-character message), `nlu` (in-process parse latency), `report`
(machine, markdown table, plot) and `run` (the whole run and its smoke version).
"""
