#!/usr/bin/env python3
"""Writes the home-slots corpus: joint intent + slot filling in the seq.in / seq.out / label
layout (train/, valid/, test/; one utterance a line, BIO slot tags, one intent a line).

Seven smart-home intents, each phrased by hand-written templates whose {slots} are filled from
value lists: rooms, devices, durations, times, places, artists, contacts, temperatures. A fifth
of each value list is kept out of training and used only in valid and test, so that those
splits hold words the model never saw in training (what character features are for).
Deterministic (seed 11). Regenerate with
    python3 corpora/home-slots/make_slots.py
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(11)

VALUES = {
    "room": ["kitchen", "living room", "bedroom", "bathroom", "hallway", "office", "garage", "porch", "dining room",
             "basement", "attic", "kids room", "guest room", "study", "garden", "laundry room", "nursery", "den",
             "pantry", "sunroom", "workshop", "loft", "cellar", "playroom", "veranda"],
    "device": ["lamp", "fan", "heater", "tv", "radio", "kettle", "dishwasher", "speaker", "projector", "humidifier",
               "air purifier", "coffee maker", "ceiling light", "desk lamp", "dryer", "washing machine", "toaster",
               "air conditioner", "water heater", "sprinkler"],
    "duration": ["five minutes", "ten minutes", "half an hour", "an hour", "twenty minutes", "90 seconds",
                 "3 minutes", "two hours", "forty five minutes", "a minute", "15 minutes", "seven minutes",
                 "eight minutes", "12 minutes", "three hours", "thirty seconds", "four minutes", "an hour and a half",
                 "six minutes", "45 seconds"],
    "time": ["today", "tomorrow", "this evening", "tonight", "this weekend", "monday", "tomorrow morning", "noon",
             "later today", "friday", "this afternoon", "next week", "7 am", "six thirty", "midnight", "sunday",
             "half past eight", "9 pm", "thursday evening", "dawn"],
    "place": ["london", "paris", "new york", "tokyo", "berlin", "madrid", "boston", "sydney", "lagos", "mumbai",
              "oslo", "seattle", "cairo", "lima", "rome", "nairobi", "toronto", "dublin", "reykjavik", "hanoi",
              "quito", "helsinki", "porto", "kyoto", "denver"],
    "artist": ["the beatles", "miles davis", "taylor swift", "bach", "radiohead", "adele", "beyonce", "nirvana",
               "bob marley", "mozart", "queen", "daft punk", "nina simone", "coldplay", "fela kuti", "bjork",
               "chopin", "abba", "the clash", "ravi shankar"],
    "contact": ["mom", "dad", "alex", "grandma", "sarah", "john", "my sister", "my brother", "dr smith", "maria",
                "kevin", "my wife", "my husband", "jamie", "priya", "tomasz", "aunt rosa", "the plumber", "li wei",
                "oliver"],
    "temperature": ["20 degrees", "21 degrees", "eighteen degrees", "72 degrees", "nineteen", "22", "sixty eight",
                    "25 degrees", "23 degrees", "seventy", "16 degrees", "24"],
}

T = {
    "device_on": ["turn on the {device} in the {room}", "switch the {room} {device} on", "{device} on in the {room}",
                  "start the {device}", "power up the {device} in the {room}", "put the {device} on",
                  "can you turn on the {room} {device}", "switch on the {device} at {time}",
                  "turn the {device} on in the {room} {time}", "i want the {device} running"],
    "device_off": ["turn off the {device} in the {room}", "switch the {room} {device} off", "{device} off in the {room}",
                   "stop the {device}", "power down the {device} in the {room}", "shut off the {device}",
                   "can you turn off the {room} {device}", "switch off the {device} at {time}",
                   "kill the {device} in the {room}", "i don't need the {device} anymore"],
    "set_timer": ["set a timer for {duration}", "start a {duration} timer", "remind me in {duration}",
                  "count down {duration}", "timer for {duration} in the {room}", "wake me up in {duration}",
                  "alert me after {duration}", "put a timer on for {duration} please", "{duration} timer",
                  "set the {device} timer to {duration}"],
    "weather": ["what is the weather in {place}", "weather for {place} {time}", "will it rain in {place} {time}",
                "how cold is it in {place}", "forecast for {place}", "is it sunny in {place} {time}",
                "do i need an umbrella in {place} {time}", "what's the temperature in {place}",
                "tell me the weather {time}", "how hot will it be in {place} {time}"],
    "play_music": ["play {artist}", "play some {artist} in the {room}", "put on {artist}", "i want to hear {artist}",
                   "play {artist} on the {device}", "start {artist} in the {room}", "music by {artist} please",
                   "shuffle {artist}", "play {artist} at {time}", "can you play {artist} in the {room}"],
    "call": ["call {contact}", "phone {contact}", "ring {contact} {time}", "dial {contact}",
             "give {contact} a call", "video call {contact}", "call {contact} on the {device}",
             "get {contact} on the phone", "i need to talk to {contact}", "call {contact} at {time}"],
    "set_thermostat": ["set the {room} to {temperature}", "make it {temperature} in the {room}",
                       "thermostat to {temperature}", "heat the {room} to {temperature}",
                       "set the temperature to {temperature} {time}", "cool the {room} down to {temperature}",
                       "i want {temperature} in the {room}", "change the heating to {temperature}",
                       "keep the {room} at {temperature}", "set the {device} to {temperature}"],
}
OPEN = [[], [], [], ["please"], ["hey"], ["could", "you"], ["ok"], ["hi", "there"]]
CLOSE = [[], [], [], ["please"], ["thanks"], ["now"], ["for", "me"], ["thank", "you"]]

# A fifth of each value list appears only in valid and test.
SEEN, UNSEEN = {}, {}
for k, vs in VALUES.items():
    vs = vs[:]
    rng.shuffle(vs)
    cut = max(1, len(vs) // 5)
    UNSEEN[k], SEEN[k] = vs[:cut], vs[cut:]


def fill(template, values):
    words, tags = [], []
    for part in template.split():
        if part.startswith("{") and part.endswith("}"):
            slot = part[1:-1]
            value = rng.choice(values[slot]).split()
            words += value
            tags += ["B-" + slot] + ["I-" + slot] * (len(value) - 1)
        else:
            words.append(part)
            tags.append("O")
    return words, tags


def utterance(intent, values):
    words, tags = fill(rng.choice(T[intent]), values)
    o, c = rng.choice(OPEN), rng.choice(CLOSE)
    return o + words + c, ["O"] * len(o) + tags + ["O"] * len(c)


def split(n_per_intent, values_for, seen_keys):
    rows = []
    for intent in sorted(T):
        made = 0
        while made < n_per_intent:
            words, tags = utterance(intent, values_for())
            key = " ".join(words)
            if key in seen_keys:
                continue
            seen_keys.add(key)
            rows.append((words, tags, intent))
            made += 1
    rng.shuffle(rows)
    return rows


def mixed():
    # valid/test: each slot drawn from the unseen values half of the time.
    return {k: (UNSEEN[k] if rng.random() < 0.5 else SEEN[k]) for k in VALUES}


used = set()
splits = {"train": split(300, lambda: SEEN, used), "valid": split(50, mixed, used), "test": split(50, mixed, used)}
for name, rows in splits.items():
    os.makedirs(os.path.join(HERE, name), exist_ok=True)
    for fname, col in (("seq.in", 0), ("seq.out", 1)):
        with open(os.path.join(HERE, name, fname), "w") as f:
            f.writelines(" ".join(r[col]) + "\n" for r in rows)
    with open(os.path.join(HERE, name, "label"), "w") as f:
        f.writelines(r[2] + "\n" for r in rows)
    print(name, len(rows))
