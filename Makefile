# Short commands for people and CI. `make help` lists them.
PY := .venv/bin/python
.DEFAULT_GOAL := help
.PHONY: help setup check train chat serve test eval clean fuzz test-scale

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## create .venv (Python 3.10) and install the pinned dependencies
	@scripts/setup.sh

check: setup ## validate the knowledge files
	@$(PY) -m bot check

train: setup ## train the model if the data changed since the last training
	@$(PY) -m bot train

chat: train ## talk to the assistant in the terminal (rasa shell + action server)
	@$(PY) -m bot shell

serve: train ## Rasa REST on 127.0.0.1:5005 + action server on :5055, Ctrl-C stops both
	@$(PY) -m bot serve

test: train ## the whole test suite (unit, NLU data, end-to-end with real servers)
	@scripts/test.sh

eval: train ## accuracy report on tests/eval (starts its own servers)
	@$(PY) -m bot eval

FUZZ_COUNT ?= 10000
fuzz: train ## fuzz REST and socket.io with FUZZ_COUNT (10000) generated bad inputs (servers on 5605/5655)
	@$(PY) -m bot fuzz --count $(FUZZ_COUNT) --port 5605 --action-port 5655

test-scale: train ## 2 Rasa nodes on PostgreSQL + Redis behind nginx: 200 conversations, a node killed
	@scripts/system-deps.sh postgresql redis-server nginx-light
	@scripts/test.sh -m scale -s tests/test_scale.py

clean: ## remove trained models, run files and reports
	rm -rf models .run reports data/nlu/generated
