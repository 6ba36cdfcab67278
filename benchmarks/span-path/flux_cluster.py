"""The fake Kubernetes API server of span_path.py's correlation modes: flux_objects.py's (discovery, lists,
watches held open), serving the test fixtures' Alerts, Providers (an otel one), GitRepositories and
Kustomizations (Tests/Fixtures/flux-objects/list) instead of generated objects, and no events. Enough for
`receivers.flux_objects` to know the objects and the otel Alert, so that the agent correlates the benchmark's
spans (issue 18); nothing changes while the benchmark runs."""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "flux-objects"))
import flux_objects  # noqa: E402

FIXTURE_LISTS = ("alerts", "providers", "gitrepositories", "kustomizations")


class FixtureCluster(flux_objects.Cluster):
    def page(self, resource, limit, start):
        if resource not in FIXTURE_LISTS:
            return [], ""
        return json.load(open(os.path.join(flux_objects.FIXTURES, "list", resource + ".json")))["items"], ""


def start():
    """The server, serving on a thread; its port is server.server_address[1]. Stop with stop(server)."""
    cluster = FixtureCluster()
    server = flux_objects.APIServer(("127.0.0.1", 0), flux_objects.handler(cluster))
    server.cluster = cluster
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server):
    server.cluster.stopping.set()
    server.shutdown()
