# Short commands for people and CI. `make help` lists them.
PY := .venv/bin/python
.DEFAULT_GOAL := help
.PHONY: help setup check lint admin admin-user train chat serve web test eval clean faq-check faq-try gaps purge bench bench-smoke fuzz test-scale

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## create .venv (Python 3.10) and install the pinned dependencies
	@scripts/setup.sh

check: setup ## validate the knowledge files
	@$(PY) -m bot check

faq-check: setup ## validate the knowledge files: errors, expired entries, reviews older than 12 months
	@$(PY) -m bot faq-check

faq-try: setup ## what the running assistant (make serve) answers to Q="…", and why
	@$(PY) -m bot faq-try "$(Q)"

gaps: setup ## questions the assistant could not answer, grouped: table + reports/gaps.csv
	@$(PY) -m bot gaps

purge: setup ## delete conversations older than DAYS days (default BOT_RETENTION_DAYS, 90) from the tracker store
	@$(PY) -m bot purge $(if $(DAYS),--days $(DAYS))

admin: setup ## staff console in the browser on 127.0.0.1:8081 (BOT_ADMIN_HOST / BOT_ADMIN_PORT)
	@$(PY) -m bot admin

admin-user: setup ## create or reset a console account: USER=name ROLE=redaction|validation (password asked)
	@$(PY) -m bot admin-user --user "$(USER)" --role "$(ROLE)"

train: setup ## train the model if the data changed since the last training
	@$(PY) -m bot train

chat: train ## talk to the assistant in the terminal (rasa shell + action server)
	@$(PY) -m bot shell

serve: train ## Rasa REST on 127.0.0.1:5005 + action server on :5055, Ctrl-C stops both
	@$(PY) -m bot serve

web: train ## demo page with the chat widget on 127.0.0.1:8080 + Rasa (socket.io) + actions, Ctrl-C stops all
	@$(PY) -m bot web

lint: setup ## ruff on the Python code (settings in pyproject.toml; also part of make test)
	@.venv/bin/ruff check .

test: train ## the whole test suite (unit, NLU data, end-to-end with real servers)
	@scripts/test.sh

eval: train ## accuracy on the dev and blind sets (tests/eval, tests/eval/blind; own servers) → reports/
	@$(PY) -m bot eval

bench: train ## latency, throughput, memory, accuracy vs two baselines (~15 min) → results/
	@$(PY) -m bot bench

bench-smoke: train ## the bench on tiny counts (about a minute; also part of make test)
	@$(PY) -m pytest -q tests/test_bench.py

FUZZ_COUNT ?= 10000
fuzz: train ## fuzz REST and socket.io with FUZZ_COUNT (10000) generated bad inputs (servers on 5605/5655)
	@$(PY) -m bot fuzz --count $(FUZZ_COUNT) --port 5605 --action-port 5655

test-scale: train ## 2 Rasa nodes on PostgreSQL + Redis behind nginx: 200 conversations, a node killed
	@scripts/system-deps.sh postgresql redis-server nginx-light
	@scripts/test.sh -m scale -s tests/test_scale.py

clean: ## remove trained models, run files and reports
	rm -rf models .run reports results data/nlu/generated
