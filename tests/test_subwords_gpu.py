"""The subword input path of the CUDA kernel (skw2v/_cuda/sgns.cu), run through
the CPU emulation of tests/_cuda_emulator.py (and on a GPU when there is one):
with forced draws it trains exactly what the CPU kernel trains."""

import numpy as np
import pytest

from skw2v import _core
from skw2v._cuda import _train as gt
from skw2v._subwords import subword_table
from skw2v._training import run_epoch

from _cuda_emulator import EmulatedBackend, have_compiler
from test_gpu import _gpu_ok, _init, _one_hot, _sentences_plan, requires_gpu  # noqa: F401

WORDS = ["walk", "walked", "walks", "talk", "talked", "talks", "cook", "cooked", "cooks",
         "a", "painter", "paint"]
N_VOCAB = len(WORDS)


@pytest.fixture(scope="module")
def emulator_dir(tmp_path_factory):
    if not have_compiler():
        pytest.skip("g++ not on PATH (needed to emulate the CUDA kernels on the CPU)")
    return tmp_path_factory.mktemp("cuda_emulator_subwords")


@pytest.fixture(params=["emulated", pytest.param("cuda", marks=requires_gpu)])
def backend(request):
    if request.param == "emulated":
        return EmulatedBackend(request.getfixturevalue("emulator_dir"), 1)
    return None


def _subword_plan(arch, loss, bucket, rng):
    lengths = [5, 0, 1, 9, 3, 12, 2, 7]
    sentences = [rng.integers(0, N_VOCAB, n).tolist() for n in lengths]
    keep = rng.uniform(0.3, 1.0, N_VOCAB).astype(np.float32)
    keep[::3] = 1.0
    plan = _sentences_plan(sentences, N_VOCAB, keep_prob=keep, noise=_one_hot(N_VOCAB, 3),
                           log_kq=rng.normal(0.0, 1.0, N_VOCAB), architecture=arch, loss=loss,
                           window=2, shrink=False, sample_size=2, chunk_tokens=4)
    plan.subword_indptr, plan.subword_ids = subword_table(WORDS, 3, 5, bucket)
    return plan


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
@pytest.mark.parametrize("dim", [8, 35])  # float4 loads; scalar loads over two registers
def test_epoch_with_subwords_matches_cpu(arch, loss, dim, backend):
    rng = np.random.default_rng(5)
    bucket = 17
    plan = _subword_plan(arch, loss, bucket, rng)
    w_in, w_out = _init(N_VOCAB + bucket, dim, rng)
    w_in *= 40.0  # rows well away from zero, so that every update shows
    w_out = w_out[:N_VOCAB] * 40.0
    bias = rng.normal(0.0, 1.0, N_VOCAB).astype(np.float32) if loss == "nce" else None
    kw = dict(lr_start=0.3, lr_end=0.001, progress_offset=0, progress_total=2 * plan.n_tokens)
    cpu_in, cpu_out = w_in.copy(), w_out.copy()
    cpu_bias = None if bias is None else bias.copy()
    trainer = gt.GpuTrainer(plan, w_in.copy(), w_out.copy(), backend=backend,
                            output_bias=None if bias is None else bias.copy(), batch_tokens=7,
                            max_blocks=1, threads_per_block=32)
    for epoch, seed in enumerate((8, 9)):
        kw["progress_offset"] = epoch * plan.n_tokens
        cpu = run_epoch(plan, cpu_in, cpu_out, output_bias=cpu_bias, seed=seed, n_threads=1,
                        **kw)
        gpu = trainer.run_epoch(seed=seed, **kw)
        assert gpu.words == cpu.words and gpu.positives == cpu.positives > 0
        np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-5)
    gpu_bias = None if bias is None else np.empty_like(bias)
    gpu_in, gpu_out = trainer.download(output_bias=gpu_bias)
    assert gpu_in.shape == (N_VOCAB + bucket, dim)
    assert not np.allclose(cpu_in[N_VOCAB:], w_in[N_VOCAB:])  # n-gram rows trained
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-4, atol=1e-6)
    if bias is not None:
        np.testing.assert_allclose(gpu_bias, cpu_bias, rtol=1e-4, atol=1e-6)


def test_batched_update_refuses_subwords(emulator_dir):
    rng = np.random.default_rng(0)
    plan = _subword_plan("skipgram", "negative_sampling", 5, rng)
    w_in, w_out = _init(N_VOCAB + 5, 8, rng)
    with pytest.raises(ValueError, match="window-batched GPU update"):
        gt.GpuTrainer(plan, w_in, w_out[:N_VOCAB].copy(),
                      backend=EmulatedBackend(emulator_dir, 1), batch_window=True)
    assert _core.ARCHITECTURES["skipgram"] == 0
