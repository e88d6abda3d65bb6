#!/usr/bin/env python3
"""Writes realistic Rasa tracker events, one JSON object per line, as Rasa's file broker does.

    python3 bench/gen_events.py N OUT.jsonl [--sqlite OUT.db] [--seed S]

Each line is `{"sender_id": ID}` followed by the event's `as_dict()` keys, serialised with
Python's `json.dumps` defaults (", " and ": " separators, pure ASCII: non-ASCII text becomes
\\uXXXX escapes, emoji surrogate pairs). Several hundred conversations run at once and their
events interleave; each conversation is a session start followed by turns of the shape a
Rasa 3.6 assistant logs (user, user_featurization, action, slot, bot, action_listen, and
now and then a form's active_loop). The output depends only on N and the seed.

With --sqlite the same lines also go into an SQLite database with the table Rasa's SQL
broker creates, in one transaction. Also written: OUT.jsonl.stats.json with the counts per
event type, which bench/run.py uses to check the tools it times.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import time

# --- vocabulary --------------------------------------------------------------------------

INTENTS = [
    # (intent, user texts, entities as (entity, value) that may be found in the text)
    ("greet", ["hi", "hello there", "Hallo!", "good morning", "hey 👋", "こんにちは", "Grüß Gott"], []),
    ("goodbye", ["bye", "see you later", "Tschüss", "ciao 👋", "さようなら"], []),
    ("affirm", ["yes", "sure, go ahead", "ja, gerne", "yep 👍", "that's right"], []),
    ("deny", ["no", "not really", "nein, danke", "nope"], []),
    ("request_restaurant", [
        "I'd like to book a table for {n} people",
        "find me a {cuisine} restaurant in {city}",
        "Ich möchte einen Tisch für {n} Personen in {city} reservieren",
        "is there a good {cuisine} place near {city}? 🍜",
        "{city}で{cuisine}のレストランを探しています",
    ], ["cuisine", "city", "n"]),
    ("inform", ["{cuisine}", "in {city} please", "for {n}", "am liebsten {cuisine} in {city}"],
     ["cuisine", "city", "n"]),
    ("ask_weather", ["what's the weather like in {city}?", "Wie ist das Wetter in {city}?",
                     "will it rain tomorrow in {city} ☔"], ["city"]),
    ("check_balance", ["how much money do I have?", "what is my account balance",
                       "Kontostand bitte", "show me my balance 💶"], []),
    ("transfer_money", ["send {amount} euros to {name}", "überweise {amount} € an {name}",
                        "pay {name} {amount}"], ["amount", "name"]),
    ("bot_challenge", ["are you a bot?", "am I talking to a human?", "Bist du ein Roboter? 🤖"], []),
    ("thankyou", ["thanks!", "thank you so much", "danke schön", "ありがとう 🙏"], []),
    ("nlu_fallback", ["asdf qwer", "hmm", "what?", "¯\\_(ツ)_/¯"], []),
]
INTENT_NAMES = [i[0] for i in INTENTS]

FILL = {
    "cuisine": ["italian", "chinese", "mexican", "Döner", "sushi", "ramen", "vegan", "französisch", "寿司"],
    "city": ["Berlin", "München", "Zürich", "Köln", "Tokyo", "東京", "San Francisco", "Düsseldorf", "Paris"],
    "n": ["2", "4", "six", "zwei", "10"],
    "amount": ["20", "150", "3.50", "1000"],
    "name": ["Jürgen", "Anna", "María", "John", "山田", "Zoë"],
}

UTTERANCES = {
    "greet": [("utter_greet", "Hey! How can I help you today?"),
              ("utter_greet", "Hallo! Wie kann ich helfen? 😊")],
    "goodbye": [("utter_goodbye", "Bye! Have a nice day 👋"), ("utter_goodbye", "Auf Wiedersehen!")],
    "affirm": [("utter_happy", "Great, carry on!")],
    "deny": [("utter_ask_rephrase", "Sorry, could you say that in another way?")],
    "request_restaurant": [("utter_ask_cuisine", "What cuisine would you like?"),
                           ("utter_ask_num_people", "For how many people? 🍽️"),
                           ("utter_ask_city", "In welcher Stadt?")],
    "inform": [("utter_submit", "All done! Your table is booked ✅"),
               ("utter_slots_values", "I am going to run a search using: cuisine {cuisine}, city {city}")],
    "ask_weather": [("utter_weather", "It's sunny and 21°C in {city} ☀️"),
                    ("utter_weather", "In {city} regnet es gerade 🌧️")],
    "check_balance": [("utter_balance", "Your balance is €1,234.56")],
    "transfer_money": [("utter_ask_transfer_confirm", "Do you want to send {amount} € to {name}?")],
    "bot_challenge": [("utter_iamabot", "I am a bot, powered by Rasa. 🤖")],
    "thankyou": [("utter_noworries", "You're welcome! 🙂")],
    "nlu_fallback": [("utter_default", "Sorry, I didn't get that 🤷. Can you rephrase?")],
}

BUTTONS = {
    "utter_ask_cuisine": [{"title": "Italian 🍕", "payload": "/inform{\"cuisine\": \"italian\"}"},
                          {"title": "Chinese", "payload": "/inform{\"cuisine\": \"chinese\"}"},
                          {"title": "Döner", "payload": "/inform{\"cuisine\": \"döner\"}"}],
    "utter_ask_transfer_confirm": [{"title": "Yes", "payload": "/affirm"},
                                   {"title": "No", "payload": "/deny"}],
    "utter_ask_rephrase": [{"title": "Restaurant", "payload": "/request_restaurant"},
                           {"title": "Weather", "payload": "/ask_weather"}],
}

SLOT_OF = {"cuisine": "cuisine", "city": "city", "n": "num_people", "amount": "amount", "name": "recipient"}
FORMS = {"request_restaurant": "restaurant_form", "transfer_money": "transfer_form"}
CHANNELS = ["rest", "rest", "socketio", "telegram", "slack"]
POLICIES = ["policy_2_TEDPolicy", "policy_1_RulePolicy", "policy_0_MemoizationPolicy"]
ACTIONS = ["action_search_restaurants", "action_check_balance", "action_weather_api"]


def _rand_hex(rng, bits):
    return "%0*x" % (bits // 4, rng.getrandbits(bits))


class Conversation:
    """One sender: a session start, then turns until it ends."""

    def __init__(self, rng, meta):
        self.rng = rng
        # sender ids look like the channel's: a uuid from rest clients and the Inspector,
        # a socket.io session id, a Telegram chat number, a Slack user id
        self.channel = rng.choice(CHANNELS)
        if self.channel == "telegram":
            self.sender_id = str(rng.randrange(10**8, 10**10))
        elif self.channel == "slack":
            self.sender_id = "U0" + _rand_hex(rng, 36).upper()
        else:
            self.sender_id = _rand_hex(rng, 128)
        self.meta = meta  # user metadata: {"model_id": ..., "assistant_id": ...} of the model
        self.action_meta = {"model_id": meta["model_id"]}
        self.turns_left = rng.randint(2, 14)
        self.pending = []
        self.loop = None
        self._session_start()

    # each pending item is a function of the timestamp that returns the event dict
    def _session_start(self):
        self.pending += [
            lambda ts: self._action(ts, "action_session_start", None, 1.0),
            lambda ts: {"event": "session_started", "timestamp": ts},
            lambda ts: self._action(ts, "action_listen", None, None),
        ]

    def _action(self, ts, name, policy, confidence, metadata=True):
        d = {"event": "action", "timestamp": ts}
        if metadata:
            d["metadata"] = self.action_meta
        d.update({"name": name, "policy": policy, "confidence": confidence,
                  "action_text": None, "hide_rule_turn": False})
        return d

    def _turn(self):
        rng = self.rng
        intent, texts, ent_names = INTENTS[rng.randrange(len(INTENTS))]
        values = {k: rng.choice(FILL[k]) for k in ent_names}
        text = rng.choice(texts).format(**values)
        entities = []
        for k in ent_names:
            v = values[k]
            start = text.find(v)
            if start < 0:
                continue
            entities.append({"entity": SLOT_OF[k], "start": start, "end": start + len(v),
                             "confidence_entity": round(rng.uniform(0.8, 1.0), 16),
                             "value": v, "extractor": "DIETClassifier"})
        conf = rng.uniform(0.55, 0.9999)
        ranking = [{"name": intent, "confidence": conf}]
        rest = 1.0 - conf
        for other in rng.sample(INTENT_NAMES, rng.randint(1, 2)):
            if other == intent:
                continue
            c = rest * rng.random()
            rest -= c
            ranking.append({"name": other, "confidence": c})
        ranking.sort(key=lambda r: -r["confidence"])
        message_id = _rand_hex(rng, 128)
        channel = self.channel
        policy = rng.choice(POLICIES)
        utter, bot_text = rng.choice(UTTERANCES[intent])
        bot_text = bot_text.format(**{k: values.get(k, "?") for k in FILL})
        buttons = BUTTONS.get(utter)
        meta = self.meta

        def user(ts):
            return {"event": "user", "timestamp": ts, "metadata": meta, "text": text,
                    "parse_data": {"intent": {"name": intent, "confidence": conf},
                                   "entities": entities, "text": text, "message_id": message_id,
                                   "metadata": {}, "intent_ranking": ranking},
                    "input_channel": channel, "message_id": message_id}

        def bot(ts):
            return {"event": "bot", "timestamp": ts, "metadata": {"utter_action": utter},
                    "text": bot_text,
                    "data": {"elements": None, "quick_replies": None, "buttons": buttons,
                             "attachment": None, "image": None, "custom": None}}

        p = self.pending
        p.append(user)
        p.append(lambda ts: {"event": "user_featurization", "timestamp": ts,
                             "use_text_for_featurization": False})
        form = FORMS.get(intent)
        if form and self.loop is None:
            self.loop = form
            p.append(lambda ts: self._action(ts, form, policy, 1.0))
            p.append(lambda ts: {"event": "active_loop", "timestamp": ts, "name": form})
        if self.loop:
            p.append(lambda ts: {"event": "slot", "timestamp": ts, "name": "requested_slot",
                                 "value": rng.choice(["cuisine", "city", "num_people", "amount"])})
        for k in ent_names:
            if k in values and rng.random() < 0.7:
                name, value = SLOT_OF[k], values[k]
                p.append(lambda ts, name=name, value=value:
                         {"event": "slot", "timestamp": ts, "name": name, "value": value})
        if intent in ("check_balance", "ask_weather") or rng.random() < 0.1:
            act = rng.choice(ACTIONS)
            p.append(lambda ts: self._action(ts, act, policy, rng.random()))
            if rng.random() < 0.5:
                p.append(lambda ts: {"event": "slot", "timestamp": ts, "name": "search_results",
                                     "value": [{"name": "Trattoria Zürich", "rating": 4.5},
                                               {"name": "東京ラーメン", "rating": 4.1}]})
        p.append(lambda ts: self._action(ts, utter, policy, conf))
        p.append(bot)
        if self.loop and (intent in ("inform", "affirm", "deny") and rng.random() < 0.6):
            loop, self.loop = self.loop, None
            p.append(lambda ts: {"event": "active_loop", "timestamp": ts, "name": None})
            p.append(lambda ts: {"event": "slot", "timestamp": ts, "name": "requested_slot", "value": None})
        p.append(lambda ts: self._action(ts, "action_listen", policy, rng.uniform(0.9, 1.0)))

    def next_event(self, ts):
        """The next event dict, or None when the conversation is over."""
        if not self.pending:
            if self.turns_left <= 0:
                return None
            self.turns_left -= 1
            self._turn()
        make = self.pending.pop(0)
        return make(ts)


def generate(n, seed=1, active=400):
    """Yields (sender_id, line) for n events, line being the JSON text without newline."""
    rng = random.Random(seed)
    # three models over the file's time; the older one from before Rasa added assistant_id
    models = [{"model_id": _rand_hex(rng, 128)}] + [
        {"model_id": _rand_hex(rng, 128), "assistant_id": "placeholder_default"} for _ in range(2)]
    def new_conv():
        return Conversation(rng, rng.choice(models))
    convs = [new_conv() for _ in range(active)]
    ts = 1745044394.1430557
    dumps = json.dumps
    produced = 0
    while produced < n:
        i = rng.randrange(active)
        ts += rng.expovariate(50.0)  # about 50 events per second across all senders
        ev = convs[i].next_event(ts)
        if ev is None:
            convs[i] = new_conv()
            ev = convs[i].next_event(ts)
        sid = convs[i].sender_id
        d = {"sender_id": sid}
        d.update(ev)
        yield sid, ev["event"], dumps(d)
        produced += 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of events")
    ap.add_argument("out", help="JSON-lines file to write")
    ap.add_argument("--sqlite", metavar="DB", help="also write this SQLite database (replaced)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    counts = {}
    senders = set()
    total_bytes = 0

    def rows(f):
        nonlocal total_bytes
        write = f.write
        for i, (sid, kind, line) in enumerate(generate(a.n, a.seed), 1):
            write(line)
            write("\n")
            total_bytes += len(line) + 1
            counts[kind] = counts.get(kind, 0) + 1
            senders.add(sid)
            yield (i, sid, line)

    with open(a.out, "w", encoding="ascii", newline="\n", buffering=1 << 20) as f:
        if a.sqlite:
            if os.path.exists(a.sqlite):
                os.remove(a.sqlite)
            db = sqlite3.connect(a.sqlite)
            db.execute("CREATE TABLE events (id INTEGER NOT NULL, sender_id VARCHAR(255), data TEXT, "
                       "PRIMARY KEY (id))")
            with db:  # one transaction for all rows
                db.executemany("INSERT INTO events (id, sender_id, data) VALUES (?, ?, ?)", rows(f))
            db.close()
        else:
            for _ in rows(f):
                pass
    elapsed = time.perf_counter() - t0
    avg = total_bytes / a.n if a.n else 0.0
    stats = {"events": a.n, "seed": a.seed, "bytes": total_bytes, "average_line_bytes": round(avg, 1),
             "senders": len(senders), "counts": dict(sorted(counts.items()))}
    with open(a.out + ".stats.json", "w") as f:
        json.dump(stats, f, indent=1)
        f.write("\n")
    print(f"{a.n} events, {len(senders)} senders, {total_bytes / 1e6:.1f} MB, average line {avg:.0f} bytes, "
          f"{elapsed:.1f}s -> {a.out}" + (f" and {a.sqlite}" if a.sqlite else ""), file=sys.stderr)
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
