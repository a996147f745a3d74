#!/usr/bin/env python3
"""Writes the text-intents corpus (train.tsv, dev.tsv, test.tsv; header `text<TAB>label`).

Nine intents, each phrased by 20 hand-written templates filled with rooms, durations, places,
artists, contacts and polite openers/closers: 420 distinct utterances per intent, split at
random 300 / 60 / 60 (no utterance is in two splits; phrasings are shared, as in the usual
intent benchmarks). Deterministic (seed 7). Regenerate with
    python3 corpora/text-intents/make_intents.py
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(7)

ROOMS = ["kitchen", "living room", "bedroom", "bathroom", "hallway", "office", "garage", "porch", "dining room",
         "basement", "attic", "kids room", "guest room", "study", "garden"]
DURATIONS = ["five minutes", "ten minutes", "half an hour", "an hour", "twenty minutes", "90 seconds", "3 minutes",
             "two hours", "forty five minutes", "a minute", "15 minutes", "seven minutes", "one hour and a half", "25 min"]
TIMES = ["today", "tomorrow", "this evening", "tonight", "this weekend", "on monday", "tomorrow morning", "right now",
         "later today", "on friday", "this afternoon", "next week"]
PLACES = ["london", "paris", "new york", "tokyo", "berlin", "madrid", "the city", "here", "boston", "sydney", "lagos",
          "mumbai", "oslo", "seattle", "cairo", "lima", "my area", "rome"]
ARTISTS = ["the beatles", "miles davis", "taylor swift", "bach", "some jazz", "lofi beats", "radiohead", "adele",
           "classical music", "my workout playlist", "beyonce", "nirvana", "bob marley", "chill music", "the top hits",
           "mozart", "queen", "some rock", "my favourites", "daft punk"]
CONTACTS = ["mom", "dad", "alex", "the office", "grandma", "sarah", "john", "my sister", "my brother", "dr smith",
            "the pharmacy", "maria", "kevin", "my wife", "my husband", "the plumber", "jamie", "emergency contact"]
OPEN = ["", "", "", "please ", "hey, ", "could you ", "can you ", "i want you to ", "ok ", "would you ", "quick, ", "hi, "]
CLOSE = ["", "", "", " please", " thanks", " now", " for me", " right away", " thank you", " asap"]

T = {
    "lights_on": ["turn on the lights in the {room}", "switch the {room} lights on", "lights on in the {room}",
                  "i need light in the {room}", "make the {room} bright", "put the lights on", "turn the {room} lamp on",
                  "illuminate the {room}", "it's too dark in the {room}", "switch on the light", "can i get some light in the {room}",
                  "enable the {room} lighting", "lights on", "brighten up the {room}", "turn on every light",
                  "power on the {room} lights", "light up the {room}", "flip the {room} light switch on", "i can't see, lights on",
                  "bring the lights up in the {room}"],
    "lights_off": ["turn off the lights in the {room}", "switch the {room} lights off", "lights off in the {room}",
                   "kill the lights", "make the {room} dark", "shut off the {room} lamp", "no more light in the {room}",
                   "turn the lights out", "switch off the light", "it's too bright in the {room}", "disable the {room} lighting",
                   "lights off", "darken the {room}", "turn off every light", "power down the {room} lights",
                   "cut the lights in the {room}", "flip the {room} light switch off", "i'm going to sleep, lights off",
                   "dim everything in the {room} to zero", "put out the lights"],
    "set_timer": ["set a timer for {dur}", "timer {dur}", "start a {dur} timer", "remind me in {dur}",
                  "count down {dur}", "alert me after {dur}", "wake me up in {dur}", "i need a timer for {dur}",
                  "set an alarm to go off in {dur}", "countdown for {dur} please", "let me know when {dur} have passed",
                  "put a timer on for {dur}", "beep in {dur}", "time {dur} for the pasta", "{dur} timer",
                  "tell me when {dur} is up", "run a stopwatch countdown of {dur}", "ping me after {dur}",
                  "set the oven timer to {dur}", "give me a {dur} countdown"],
    "weather": ["what's the weather {time}", "weather in {place}", "is it going to rain {time}", "how hot will it be {time}",
                "do i need an umbrella {time}", "forecast for {place} {time}", "will it snow in {place}",
                "what's the temperature in {place}", "is it sunny in {place} {time}", "how cold is it outside",
                "tell me the forecast", "should i wear a coat {time}", "any storms expected {time}", "how windy is it in {place}",
                "weather report for {place}", "will it be nice {time}", "chance of rain in {place} {time}",
                "what's it like outside in {place}", "is there a heatwave {time}", "how humid is it {time}"],
    "play_music": ["play {artist}", "put on {artist}", "i want to listen to {artist}", "start playing {artist}",
                   "play some music", "can you play {artist} in the {room}", "music please", "shuffle {artist}",
                   "queue up {artist}", "let's hear {artist}", "play a song by {artist}", "blast {artist}",
                   "resume my music", "play something relaxing", "i'm in the mood for {artist}", "spin {artist}",
                   "put some tunes on", "stream {artist}", "play the next album of {artist}", "give me {artist}"],
    "volume_up": ["turn it up", "louder", "increase the volume", "volume up", "i can't hear it, turn it up",
                  "make it louder", "raise the volume in the {room}", "crank it up", "boost the sound", "turn the volume up a bit",
                  "more volume", "pump up the volume", "a little louder", "turn up the music", "increase the sound level",
                  "it's too quiet", "max volume", "go louder", "up the volume by ten", "bring the volume up"],
    "volume_down": ["turn it down", "quieter", "decrease the volume", "volume down", "it's too loud, turn it down",
                    "make it quieter", "lower the volume in the {room}", "tone it down", "reduce the sound", "turn the volume down a bit",
                    "less volume", "softer please", "a little quieter", "turn down the music", "decrease the sound level",
                    "it's way too loud", "minimum volume", "go quieter", "lower the volume by ten", "bring the volume down"],
    "stop": ["stop", "stop it", "cancel that", "never mind", "stop everything", "halt", "that's enough",
             "stop playing", "cancel", "forget it", "quit", "end this", "abort", "stop right there", "enough",
             "pause everything", "shut it off", "stop what you're doing", "cancel the request", "no, stop"],
    "call": ["call {contact}", "phone {contact}", "ring {contact}", "dial {contact}", "give {contact} a call",
             "i need to talk to {contact}", "get {contact} on the phone", "make a call to {contact}", "video call {contact}",
             "start a call with {contact}", "connect me to {contact}", "can you call {contact} {time}", "place a call to {contact}",
             "reach {contact} by phone", "contact {contact}", "facetime {contact}", "put me through to {contact}",
             "call {contact} on speaker", "buzz {contact}", "telephone {contact}"],
}


def fill(t):
    s = t.format(room=rng.choice(ROOMS), dur=rng.choice(DURATIONS), time=rng.choice(TIMES), place=rng.choice(PLACES),
                 artist=rng.choice(ARTISTS), contact=rng.choice(CONTACTS))
    s = rng.choice(OPEN) + s + rng.choice(CLOSE)
    if rng.random() < 0.3:
        s = s.capitalize()
    if rng.random() < 0.2:
        s += rng.choice(["?", ".", "!"])
    return s


def main():
    splits = {"train": [], "dev": [], "test": []}
    for label, templates in T.items():
        seen, tries = set(), 0
        while len(seen) < 420 and tries < 50000:
            seen.add(fill(rng.choice(templates)))
            tries += 1
        pool = sorted(seen)
        rng.shuffle(pool)
        for split, (a, b) in {"train": (0, 300), "dev": (300, 360), "test": (360, 420)}.items():
            splits[split] += [(s, label) for s in pool[a:b]]
    for split, rows in splits.items():
        rng.shuffle(rows)
        with open(os.path.join(HERE, split + ".tsv"), "w", encoding="utf-8") as f:
            f.write("text\tlabel\n")
            for s, l in rows:
                f.write(f"{s}\t{l}\n")
        print(split, len(rows))


if __name__ == "__main__":
    main()
