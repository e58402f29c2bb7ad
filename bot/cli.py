"""Command line of the project: `python -m bot <command>` (the Makefile calls these)."""
from __future__ import annotations

import argparse
import sys

from bot.config import ROOT, load_settings


def _check(args) -> int:
    from bot.kb.loader import KnowledgeError, load_knowledge_base
    try:
        kb = load_knowledge_base(load_settings().knowledge_dir)
    except KnowledgeError as exc:
        print(f"{len(exc.problems)} problème(s) dans la base de connaissances :", file=sys.stderr)
        for p in exc.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"Base de connaissances valide : {len(kb.entries)} fiches, {len(kb.sources)} sources "
          f"(version {kb.version}).")
    return 0


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


def _eval(args) -> int:
    from bot.evaluate import main as evaluate
    return evaluate(args.sets, args.out, args.url)


def _fuzz(args) -> int:
    from bot.fuzz import main as fuzz
    return fuzz(args.count, args.url, args.port, args.action_port, args.seed, args.concurrency)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate the knowledge files").set_defaults(fn=_check)
    sub.add_parser("generate", help="write NLU data generated from the knowledge base").set_defaults(fn=_generate)
    p = sub.add_parser("train", help="train the model if the data changed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(fn=_train)
    sub.add_parser("serve", help="Rasa (REST) + action server in the foreground").set_defaults(fn=_serve)
    sub.add_parser("shell", help="talk to the assistant in the terminal").set_defaults(fn=_shell)
    p = sub.add_parser("eval", help="accuracy report on the project's question sets")
    p.add_argument("--sets", default=str(ROOT / "tests" / "eval"))
    p.add_argument("--out", default=str(ROOT / "reports"))
    p.add_argument("--url", default=None, help="a running server; default: start one")
    p.set_defaults(fn=_eval)
    p = sub.add_parser("fuzz", help="send generated bad inputs to REST and socket.io, check no 5xx / crash")
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--url", default=None, help="a running server; default: start one")
    p.add_argument("--port", type=int, default=5405, help="Rasa port of the started server")
    p.add_argument("--action-port", type=int, default=5455, help="action server port of the started server")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--concurrency", type=int, default=8)
    p.set_defaults(fn=_fuzz)
    args = parser.parse_args(argv)
    return args.fn(args)
