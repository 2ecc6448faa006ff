"""`python -m bot agent`: a terminal console for agents, on the agent HTTP API.

    list | claim [lang,...] | open ID | reply ID TEXT | canned ID KEY | resolve ID | release ID
    | queue-back ID | help | quit

The token comes from SUPPORTBOT_AGENT_TOKEN or is asked for (not echoed).
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import sys
import time
import urllib.error
import urllib.request
from typing import TextIO

HELP = __doc__.split("\n\n")[1].strip()


class Console:
    def __init__(self, url: str, token: str, out: TextIO = sys.stdout) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.out = out
        self.canned: dict[str, dict[str, str]] = {}

    def call(self, method: str, path: str, body: object = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)

    def show(self, conv: dict) -> None:
        self.say(f"{conv['id']}  {conv.get('ticket')}  {conv['state']}  lane={conv.get('lane')}  "
                 f"lang={conv['language']}  {conv['platform']}  intent={conv.get('intent')}")  # fmt: skip
        for line in conv.get("transcript", []):
            stamp = time.strftime("%H:%M", time.localtime(line["at"]))
            self.say(f"  {stamp} {line['from']:>12}: {line['text']}")

    def run_command(self, line: str) -> bool:
        """Run one command; False when the console should stop."""
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        if not words:
            return True
        command, args = words[0].lower(), words[1:]
        if command in ("quit", "exit"):
            return False
        if command == "help":
            self.say(HELP)
        elif command == "list":
            status, body = self.call("GET", "/api/queue")
            if status != 200:
                return self.error(status, body)
            for c in body["queue"]:
                self.say(f"{c['id']}  {c['ticket']}  {c['lane']:<6} {c['language']}  {c['platform']:<8} "
                         f"{c['waited_seconds']:>6.0f}s  {c['first_message'][:60]}")  # fmt: skip
            if not body["queue"]:
                self.say("the queue is empty")
        elif command == "claim":
            body = {"languages": args[0].split(",")} if args else {}
            status, conv = self.call("POST", "/api/queue/claim", body)
            if status == 204:
                self.say("nothing waits")
            elif status == 200:
                self.show(conv)
            else:
                return self.error(status, conv)
        elif command == "open" and args:
            status, conv = self.call("GET", f"/api/conversations/{args[0]}")
            self.show(conv) if status == 200 else self.error(status, conv)
        elif command in ("reply", "canned") and len(args) >= 2:
            text = " ".join(args[1:])
            if command == "canned":
                text = self.canned_text(args[0], args[1])
                if text is None:
                    return True
            status, body = self.call("POST", f"/api/conversations/{args[0]}/reply", {"text": text})
            self.say("sent") if status == 202 else self.error(status, body)
        elif command in ("resolve", "release", "queue-back") and args:
            path, body = {"resolve": ("resolve", None), "release": ("release", None),
                          "queue-back": ("transfer", {"queue": True})}[command]  # fmt: skip
            status, conv = self.call("POST", f"/api/conversations/{args[0]}/{path}", body)
            self.say(f"{conv['id']} is now {conv['state']}") if status == 200 else self.error(status, conv)
        else:
            self.say(f"unknown command: {line.strip()}  (help lists them)")
        return True

    def canned_text(self, cid: str, key: str) -> str | None:
        status, conv = self.call("GET", f"/api/conversations/{cid}")
        if status != 200:
            self.error(status, conv)
            return None
        language = conv["language"]
        if language not in self.canned:
            self.canned[language] = self.call("GET", f"/api/canned?language={language}")[1].get("canned", {})
        template = self.canned[language].get(key)
        if template is None:
            self.say(f"no canned answer {key!r}; there are: {', '.join(self.canned[language])}")
            return None
        _, me = self.call("GET", "/api/me")
        return template.replace("{ticket}", conv.get("ticket") or "").replace("{name}", me.get("name", ""))

    def error(self, status: int, body: dict) -> bool:
        self.say(f"error {status}: {body.get('message') or body.get('error') or 'no details'}")
        return True


def main(url: str) -> int:
    token = os.environ.get("SUPPORTBOT_AGENT_TOKEN") or getpass.getpass("agent token: ")
    console = Console(url, token)
    status, me = console.call("GET", "/api/me")
    if status != 200:
        console.error(status, me)
        return 2
    console.say(f"signed in as {me['name']} ({me['role']}, {','.join(me['languages'])}); 'help' lists commands")
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("agent> " if interactive else "")
        except EOFError:
            return 0
        if not console.run_command(line):
            return 0
