"""Command line of the project: `python -m bot <command>` (the Makefile calls these)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import ROOT, load_settings


def _check(args) -> int:
    from bot.faq import faq_check
    return faq_check(load_settings())


def _faq_try(args) -> int:
    from bot.faq import faq_try
    from bot.kb.messages import STAFF
    if not " ".join(args.question).strip():
        print(STAFF["try_usage"], file=sys.stderr)
        return 2
    return faq_try(load_settings(), " ".join(args.question), formation=args.formation)


def _gaps(args) -> int:
    from bot.conversations import StoreError, formation_words, gaps
    s = load_settings()
    try:
        return gaps(s.tracker_url, Path(args.out), days=args.days, ignore=formation_words(s.knowledge_dir))
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 1


def _purge(args) -> int:
    from bot.conversations import StoreError, purge
    from bot.kb.messages import STAFF
    s = load_settings()
    days = args.days if args.days is not None else s.retention_days
    if days < 0:
        print(STAFF["purge_bad_days"].format(days=days), file=sys.stderr)
        return 2
    try:
        return purge(s.tracker_url, days)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 1


def _generate(args) -> int:
    from bot.generate import generate_nlu
    from bot.kb.store import get_kb
    for path in generate_nlu(get_kb(), ROOT / "data" / "nlu"):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _train(args) -> int:
    from bot.launcher import ensure_trained
    ensure_trained(load_settings(), force=args.force)
    return 0


def _serve(args) -> int:
    from bot.launcher import serve
    return serve(load_settings())


def _shell(args) -> int:
    from bot.launcher import shell
    return shell(load_settings())


def _web(args) -> int:
    from bot.web import web
    return web(load_settings())


def _eval(args) -> int:
    from bot.evaluate import main as evaluate
    return evaluate(args.sets, args.out, args.url)


def _bench(args) -> int:
    from bot.bench.run import main as bench
    return bench(smoke=args.smoke, out=args.out)


def _fuzz(args) -> int:
    from bot.fuzz import main as fuzz
    return fuzz(args.count, args.url, args.port, args.action_port, args.seed, args.concurrency)


def _admin(args) -> int:
    from bot.admin.commands import serve
    return serve(load_settings())


def _admin_user(args) -> int:
    from bot.admin.commands import set_user
    return set_user(load_settings(), args.user or "", args.role or "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate the knowledge files (alias of faq-check)").set_defaults(fn=_check)
    sub.add_parser("faq-check", help="validate the knowledge files (errors, expired and stale entries)"
                   ).set_defaults(fn=_check)
    p = sub.add_parser("faq-try", help="what the running assistant would answer to a question, and why")
    p.add_argument("question", nargs="*")
    p.add_argument("--formation", default=None, help="formation already known in the conversation")
    p.set_defaults(fn=_faq_try)
    p = sub.add_parser("gaps", help="unanswered questions from the tracker store, grouped (table + CSV)")
    p.add_argument("--out", default=str(ROOT / "reports" / "gaps.csv"))
    p.add_argument("--days", type=int, default=0, help="only the last N days (default: everything)")
    p.set_defaults(fn=_gaps)
    p = sub.add_parser("purge", help="delete conversations older than N days from the tracker store")
    p.add_argument("--days", type=int, default=None, help="default: BOT_RETENTION_DAYS (90)")
    p.set_defaults(fn=_purge)
    sub.add_parser("generate", help="write NLU data generated from the knowledge base").set_defaults(fn=_generate)
    p = sub.add_parser("train", help="train the model if the data changed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(fn=_train)
    sub.add_parser("serve", help="Rasa (REST) + action server in the foreground").set_defaults(fn=_serve)
    sub.add_parser("shell", help="talk to the assistant in the terminal").set_defaults(fn=_shell)
    sub.add_parser("web", help="demo page with the chat widget + Rasa (socket.io) + actions").set_defaults(fn=_web)
    p = sub.add_parser("eval", help="accuracy report on the project's question sets")
    p.add_argument("--sets", default=None, help="one folder of sets (default: the dev and blind sets)")
    p.add_argument("--out", default=str(ROOT / "reports"))
    p.add_argument("--url", default=None, help="a running server; default: start one")
    p.set_defaults(fn=_eval)
    p = sub.add_parser("bench", help="latency, throughput, memory and accuracy, with two baselines")
    p.add_argument("--smoke", action="store_true", help="a few-seconds run with tiny counts")
    p.add_argument("--out", default=None, help="results folder (default: results/)")
    p.set_defaults(fn=_bench)
    p = sub.add_parser("fuzz", help="send generated bad inputs to REST and socket.io, check no 5xx / crash")
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--url", default=None, help="a running server; default: start one")
    p.add_argument("--port", type=int, default=5605, help="Rasa port of the started server")
    p.add_argument("--action-port", type=int, default=5655, help="action server port of the started server")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--concurrency", type=int, default=8)
    p.set_defaults(fn=_fuzz)
    sub.add_parser("admin", help="the staff console on BOT_ADMIN_HOST:BOT_ADMIN_PORT").set_defaults(fn=_admin)
    p = sub.add_parser("admin-user", help="create or reset a console account (password: BOT_ADMIN_PASSWORD or asked)")
    p.add_argument("--user", default="")
    p.add_argument("--role", default="", help="redaction or validation")
    p.set_defaults(fn=_admin_user)
    args = parser.parse_args(argv)
    return args.fn(args)
