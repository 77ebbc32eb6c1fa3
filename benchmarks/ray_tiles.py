"""One image's tiles on a two-node Ray cluster: which node fits which tile, and the same bytes.

    python benchmarks/ray_tiles.py [--steps 50] [--cpus-per-node 1]

Starts a two-node cluster on this machine (``ray.cluster_utils.Cluster``: a head node and a
second node, each a raylet of its own with ``--cpus-per-node`` CPUs, as ``ray start`` on two
machines would give), encodes a 512 x 768 crop of a training photo forced into 2 x 3 tiles with
``--executor ray`` (``encode_image(executor=RayExecutor)``), records the node each tile's fit
ran on, and checks that the file equals a serial encode's.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np
from PIL import Image

from inrcodec import codec, tiled
from inrcodec.executors import RayExecutor
from inrcodec.options import EncodeOptions

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "train" / "wikipedia"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--cpus-per-node", type=int, default=1)
    args = parser.parse_args()
    import ray
    from ray.cluster_utils import Cluster

    a = np.asarray(Image.open(TRAIN / "001.png").convert("RGB"))
    photo = np.ascontiguousarray(a[:512, :768])
    opts = EncodeOptions(bpp=0.5, steps=args.steps, seed=0, tile=256)

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": args.cpus_per_node})
    cluster.add_node(num_cpus=args.cpus_per_node)
    ray.init(address=cluster.address, log_to_driver=False)
    nodes = {n["NodeID"]: f"node {i}" for i, n in enumerate(ray.nodes()) if n["Alive"]}
    placed: dict[int, str] = {}
    fit = tiled.fit_tile

    def where(task):  # runs on a Ray worker: the tile's fit, and the node it ran on
        result = fit(task)
        return result, ray.get_runtime_context().get_node_id()

    class Recording(RayExecutor):
        def map_unordered(self, fn, items):
            for result, node in super().map_unordered(where, items):
                placed[result.index] = nodes.get(node, node)
                yield result

    with Recording(threads=1) as pool:
        on_ray = codec.encode_image(photo, opts, executor=pool).data
    ray.shutdown()
    cluster.shutdown()
    serial = codec.encode_image(photo, opts).data
    report = {"tiles": len(placed), "placed": dict(sorted(placed.items())),
              "per_node": dict(collections.Counter(placed.values())), "same_bytes_as_serial": on_ray == serial,
              "bytes": len(on_ray)}  # fmt: skip
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
