import time, cProfile, pstats
from django.urls import reverse

def test_timing(world, client_for):
    c = client_for(world.compliance)
    c.get(reverse("compliance:lexicon"))
    times = []
    for _ in range(5):
        t = time.perf_counter(); r = c.get(reverse("compliance:lexicon")); times.append(time.perf_counter() - t)
    print("\nlexicon ms", [round(x * 1000) for x in times])
    pr = cProfile.Profile(); pr.enable(); c.get(reverse("compliance:lexicon")); pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(30)
    t0 = time.perf_counter(); c.get(reverse("compliance:scripts")); print("scripts ms", (time.perf_counter() - t0) * 1000)
