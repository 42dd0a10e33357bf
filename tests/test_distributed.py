"""Data-parallel training: 2 CPU processes (gloo) started by torch.distributed.run, as torchrun
does, against one process (tests/distributed_child.py holds the runs)."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import distributed_child as child
import pytest
import torch
from datasets_for_tests import shapes_folder

from gan_lessons import distributed
from gan_lessons.batches import BatchStream
from gan_lessons.checkpoints import load_checkpoint, load_gan

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(*args, timeout=120, cwd=ROOT) -> subprocess.CompletedProcess:
    """``python -m torch.distributed.run --nproc_per_node=2 ARGS`` with a time limit."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", GAN_LESSONS_DIST_TIMEOUT="30", PYTHONWARNINGS="ignore",
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                           f"--master_port={_free_port()}", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _lines(out: str, prefix: str) -> dict[int, str]:
    """``{rank: rest}`` of the lines ``rank R <prefix>rest``."""
    found = {}
    for line in out.splitlines():
        head, _, rest = line.partition(f" {prefix}")
        if head.startswith("rank ") and rest and head[5:].isdigit():
            found[int(head[5:])] = rest
    return found


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """The ``equiv`` runs on 2 ranks, per-rank batch 16: (folder, stdout)."""
    out = tmp_path_factory.mktemp("ddp")
    proc = torchrun("tests/distributed_child.py", out, "equiv")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def test_two_ranks_of_batch_b_train_like_one_process_of_batch_2b(two_ranks, tmp_path):
    out, stdout = two_ranks
    for run in ("mlp", "wgan_gp", "dcgan", "stylegan", "vae", "pix2pix"):  # ranks stay equal
        sums = _lines(stdout, f"{run} ")
        assert set(sums) == {0, 1}, stdout
        assert sums[0] == sums[1], stdout
        assert float(sums[0]) == float(sums[0])  # not NaN
    one = child.run(tmp_path / "one.pt", 2 * child.BATCH)
    two = load_checkpoint(out / "ckpt" / "run.pt")
    for name, model in one.models.items():
        for key, value in model.state_dict().items():
            torch.testing.assert_close(two["models"][name]["state_dict"][key], value,
                                       atol=1e-5, rtol=0)
    assert two["history"]["step"] == one.history["step"]
    torch.testing.assert_close(torch.tensor(two["history"]["loss_d"]),
                               torch.tensor(one.history["loss_d"]), atol=1e-5, rtol=0)
    # the checkpoints' files are the same, apart from what differs by design
    assert two["extra"]["distributed"] == {"world_size": 2, "batch_size": 16,
                                           "global_batch_size": 32}
    assert len(two["snapshots"]) == len(one.snapshots) == 4


def test_the_gradient_penalty_of_two_ranks_equals_one_process_of_the_global_batch(two_ranks):
    # each process takes its slice of the global batch's interpolation weights
    two = float(_lines(two_ranks[1], "wgan_gp ")[0])
    assert two == pytest.approx(float(child.checksum(child.wgan_gp(2 * child.BATCH))),
                                abs=1e-6, rel=0)  # sum |w| is about 550


def test_every_rank_draws_its_own_random_numbers_inside_the_models(two_ranks):
    streams = {rank: line.split() for rank, line in _lines(two_ranks[1], "stream ").items()}
    assert set(streams) == {0, 1}
    assert streams[0][:6] != streams[1][:6]  # independent samples (dropout, noise, a VAE's z)
    assert streams[0][6] == streams[1][6]  # the global stream stays shared and untouched


def test_sync_batchnorm_refuses_cpu_tensors_as_the_docs_say(two_ranks):
    errors = _lines(two_ranks[1], "syncbn ")
    assert set(errors) == {0, 1}
    assert "expected input tensor to be on GPU" in errors[0]
    assert "SyncBatchNorm" in distributed.__doc__
    assert "CUDA only" in distributed.__doc__


def test_only_rank_0_writes_and_the_checkpoint_loads_in_one_process(two_ranks, tmp_path):
    out, _ = two_ranks
    assert sorted(p.name for p in out.iterdir()) == ["ckpt"]
    assert sorted(p.name for p in (out / "ckpt").iterdir()) == ["run.pt"]  # no temporaries
    child.run(tmp_path / "run.pt", 2 * child.BATCH)  # one process leaves the same files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]
    g, _d = load_gan(out / "ckpt" / "run.pt")
    assert g(torch.zeros(3, child.CONFIG.latent_dim)).shape == (3, 2)


def test_resume_on_one_process_says_what_changes(two_ranks, tmp_path):
    path = tmp_path / "run.pt"
    shutil.copy(two_ranks[0] / "ckpt" / "run.pt", path)
    with pytest.warns(UserWarning, match=r"trained by 2 process\(es\), on 1: the batch per "
                      r"process stays 16, so the global batch changes from 32 to 16"):
        result = child.run(path, child.BATCH, num_steps=child.STEPS + 4, resume=True)
    assert result.step == child.STEPS + 4
    assert len(result.history["loss_d"]) == child.STEPS + 4
    assert "distributed" not in load_checkpoint(path)["extra"]  # now a one-process file


def test_nan_on_one_rank_stops_every_rank_with_the_same_message(tmp_path):
    proc = torchrun("tests/distributed_child.py", tmp_path, "nan", 6)
    messages = _lines(proc.stdout, "diverged: ")
    assert proc.returncode != 0
    assert set(messages) == {0, 1}, proc.stdout + proc.stderr
    assert messages[0] == messages[1]
    assert messages[0].startswith("training diverged at step 6: loss_d = nan is not finite")
    assert "last good checkpoint, of step 4" in messages[0]
    assert load_checkpoint(tmp_path / "ckpt" / "run.pt")["step"] == 4


def test_a_dead_rank_leaves_no_hang_and_the_last_checkpoint_intact(tmp_path):
    proc = torchrun("tests/distributed_child.py", tmp_path, "exit", 6, timeout=90)
    assert proc.returncode != 0
    # rank 0 ends by an error (it removes its lock file) or by torchrun's SIGTERM (the file
    # stays; its lock died with the process): no temporaries either way
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files in (["run.pt"], ["run.pt", "run.pt.lock"])
    assert load_checkpoint(tmp_path / "ckpt" / "run.pt")["step"] == 4
    with pytest.warns(UserWarning, match=r"trained by 2 process\(es\), on 1"):
        resumed = child.run(tmp_path / "ckpt" / "run.pt", child.BATCH, resume=True)
    assert resumed.step == child.STEPS  # a stale lock file does not block the next run


def test_the_command_line_trains_under_torchrun(tmp_path):
    proc = torchrun("-m", "gan_lessons", "train", "--model", "mlp", "--data", "ring",
                    "--steps", 4, "--batch-size", 16, "--out", tmp_path / "cli.pt", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    payload = load_checkpoint(tmp_path / "cli.pt")
    assert payload["step"] == 4
    assert payload["extra"]["distributed"]["global_batch_size"] == 32


@pytest.mark.parametrize("command", [
    ("train", "--model", "stylegan", "--steps", 3),  # lazy R1, style mixing, EMA
    ("train-ae", "--model", "conv_vae", "--steps", 3)])
def test_stylegan_and_the_vae_train_under_torchrun(command, tmp_path):
    shapes_folder(tmp_path / "images", n=32, size=16)
    proc = torchrun("-m", "gan_lessons", *command, "--data", tmp_path / "images",
                    "--batch-size", 4, "--out", tmp_path / "run.pt", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    payload = load_checkpoint(tmp_path / "run.pt")
    assert payload["step"] == 3
    assert payload["extra"]["distributed"]["global_batch_size"] == 8


def test_the_book_example_trains_on_two_processes(tmp_path):
    shapes_folder(tmp_path / "my_images", n=32, size=16)
    shutil.copy(ROOT / "examples" / "data_parallel.py", tmp_path)
    proc = torchrun("data_parallel.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == (
        "{'world_size': 2, 'batch_size': 8, 'global_batch_size': 16}")
    assert load_checkpoint(tmp_path / "runs" / "ddp.pt")["step"] == 40
    assert "examples/data_parallel.py" in (ROOT / "book" / "scaling.md").read_text()


# ----------------------------------------------------------------- in one process


def test_shards_of_a_stream_are_slices_of_the_global_stream():
    data = torch.arange(40.0).reshape(20, 2)
    whole = BatchStream(data, 6, device="cpu", seed=3)
    shards = [BatchStream(data, 3, device="cpu", seed=3, shard=(r, 2)) for r in range(2)]
    for _ in range(7):  # crosses epochs (3 global batches each)
        torch.testing.assert_close(torch.cat([next(s) for s in shards]), next(whole))
    resumed = BatchStream(data, 3, device="cpu", seed=3, shard=(1, 2), start=7)
    torch.testing.assert_close(next(resumed), next(shards[1]))


@pytest.mark.parametrize(("shard", "error", "fragment"), [
    ((2, 2), ValueError, "shard[0]"), ((0, 0), ValueError, "shard[1]"),
    ((0,), TypeError, "shard"), ((0, 4), ValueError, "divided by the 4 processes")])
def test_bad_shards_are_refused(shard, error, fragment):
    with pytest.raises(error, match=fragment.replace("[", r"\[")):
        BatchStream(torch.zeros(20, 2), 6, device="cpu", shard=shard)


def test_without_torchrun_nothing_is_distributed(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert distributed.init() is None
    assert distributed.is_main()
    assert distributed.world_size() == 1
    assert distributed.any_rank(True)
    assert distributed.on_main(lambda: 5) == 5
    assert distributed.gather_object(2) == [2]
    layer = torch.nn.Linear(2, 1)
    assert distributed.wrap(layer) is layer
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert distributed.init() is None
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE must be an integer"):
        distributed.init()
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="RANK"):
        distributed.init()
    with pytest.raises(TypeError, match="module"):
        distributed.wrap("not a module")
