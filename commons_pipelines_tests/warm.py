"""Imported by the kill harness's forkserver: codecarbon's hardware setup (about 2 s, once per process) done once in
the server, so that each forked run inherits it as a `commons run` process would after its first stage."""

from commons_pipelines.footprint import measured

with measured("warm-up"):
    pass
