"""Architectures, data augmentation, the one-cycle schedule and the presets."""

import math
from pathlib import Path

import numpy as np
import pytest

from conftest import benchmark_script, fast_cnn, fast_mlp
from mnistkit import CNNClassifier, MLPClassifier, make_preset
from mnistkit._training import auto_batch_size, auto_epochs
from mnistkit.architectures import CNN_ARCHITECTURES, STRIDED_MIN_TRAIN, build_cnn
from mnistkit.presets import PRESETS


@pytest.mark.parametrize("architecture", sorted(CNN_ARCHITECTURES))
@pytest.mark.parametrize(
    "image_shape",
    [
        (28, 28, 1),
        (8, 8, 1),
        (14, 14, 1),
        (32, 32, 3),
        (16, 16, 1),
        (20, 17, 1),
        (1, 2, 1),
    ],
)
def test_every_architecture_builds_on_any_image_size(architecture, image_shape):
    model = build_cnn(
        math.prod(image_shape), 3, image_shape=image_shape, architecture=architecture
    )
    assert model.output_shape == (None, 3)


def test_simple_architecture_is_the_keras_example_layer_for_layer():
    ours = build_cnn(784, 10, image_shape=(28, 28, 1), architecture="simple")
    example = benchmark_script("cpu_benchmark").build_keras_example()
    kinds = [type(layer).__name__ for layer in ours.layers[2:]]  # Input, Reshape
    assert kinds == [type(layer).__name__ for layer in example.layers]
    assert [w.shape for w in ours.weights] == [w.shape for w in example.weights]
    assert ours.count_params() == 34826


def _first_convolution(model):
    convolutions = [layer for layer in model.layers if layer.name.startswith("conv")]
    following = model.layers[model.layers.index(convolutions[0]) + 1]
    return convolutions[0].strides, following.name.startswith("max_pooling")


@pytest.mark.parametrize(
    "image_shape, n_train, first_strides, has_pooling",
    [
        ((28, 28, 1), None, (2, 2), False),
        ((28, 28, 1), STRIDED_MIN_TRAIN, (2, 2), False),
        ((32, 32, 3), 60_000, (2, 2), False),
        ((28, 28, 1), STRIDED_MIN_TRAIN - 1, (1, 1), True),
        ((8, 8, 1), None, (1, 1), True),
        ((14, 14, 1), 60_000, (1, 1), True),
    ],
)
def test_fast_architecture_strides_first_on_large_images_and_data_sets(
    image_shape, n_train, first_strides, has_pooling
):
    model = build_cnn(
        math.prod(image_shape), 10, image_shape=image_shape, n_train=n_train
    )
    assert _first_convolution(model) == (first_strides, has_pooling)


def test_small_data_sets_get_the_unstrided_first_block():
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 784), dtype=np.float32), np.arange(200) % 2
    model = fast_cnn(epochs=1).fit(X, y)
    assert _first_convolution(model.model_) == ((1, 1), True)


def test_the_strided_first_block_is_documented_with_its_threshold():
    import mnistkit.architectures

    threshold = f"{STRIDED_MIN_TRAIN:,}"
    assert threshold in CNNClassifier.__doc__
    assert threshold in mnistkit.architectures.__doc__
    guide = (Path(__file__).resolve().parents[1] / "docs" / "user_guide.md").read_text()
    assert f"below 16x16 pixels or {threshold} training images" in guide


@pytest.mark.parametrize("architecture", ["fast", "deep"])
def test_batch_normalisation_trains_on_the_fused_kernel(architecture):
    from mnistkit.layers import FusedBatchNormalization

    model = build_cnn(784, 10, image_shape=(28, 28, 1), architecture=architecture)
    normalising = [layer for layer in model.layers if "normalization" in layer.name]
    assert len(normalising) == 2
    assert all(type(layer) is FusedBatchNormalization for layer in normalising)


def test_lenet5_has_its_published_size():
    model = build_cnn(784, 10, image_shape=(28, 28, 1), architecture="lenet5")
    assert model.count_params() == 61706
    assert {layer.get_config().get("activation") for layer in model.layers} >= {"tanh"}


@pytest.mark.parametrize("architecture", sorted(CNN_ARCHITECTURES))
def test_every_architecture_learns_the_digits(architecture, digits01):
    X, y = digits01
    model = CNNClassifier(
        architecture=architecture, epochs=15, batch_size=32, random_state=0
    )
    # Chance is 0.1; LeNet-5, without dropout, overfits 500 images to about 0.8.
    assert model.fit(X[:500], y[:500]).score(X[500:], y[500:]) > 0.7


def test_architecture_defaults_can_be_overridden():
    model = fast_cnn(architecture="deep", filters=(4, 8), dense_units=(16, 8))
    model.fit(np.random.rand(40, 64).astype("float32"), np.arange(40) % 2)
    dense = [layer.units for layer in model.model_.layers if hasattr(layer, "units")]
    assert dense == [16, 8, 2]
    convolutions = [
        layer.filters for layer in model.model_.layers if hasattr(layer, "filters")
    ]
    assert convolutions == [4, 4, 8, 8]


def test_unknown_architecture_is_named(digits01):
    X, y = digits01
    with pytest.raises(ValueError, match="'architecture' parameter.*'resnet'"):
        CNNClassifier(architecture="resnet").fit(X, y)


# -- Data augmentation ---------------------------------------------------------------


def _layer_names(model):
    return [type(layer).__name__ for layer in model.model_.layers]


@pytest.mark.parametrize("make_classifier", [fast_cnn, fast_mlp], ids=["cnn", "mlp"])
def test_augment_changes_training_only_and_reproducibly(make_classifier, digits01):
    X, y = digits01
    first = make_classifier(augment=True, random_state=4).fit(X, y)
    assert {"RandomRotation", "RandomTranslation", "RandomZoom"} <= set(
        _layer_names(first)
    )
    # Prediction sees the images unchanged: the same answer every time.
    np.testing.assert_array_equal(first.predict_proba(X), first.predict_proba(X))
    again = make_classifier(augment=True, random_state=4).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    plain = make_classifier(random_state=4).fit(X, y)
    assert not np.allclose(first.predict_proba(X), plain.predict_proba(X))
    assert first.score(X, y) > 0.7


def test_augment_dict_chooses_the_transformations(digits01):
    X, y = digits01
    model = fast_cnn(augment={"rotation": 15}).fit(X, y)
    (rotation,) = [
        layer
        for layer in model.model_.layers
        if type(layer).__name__ == "RandomRotation"
    ]
    assert rotation.factor == (-15 / 360, 15 / 360)
    assert "RandomZoom" not in _layer_names(model)


@pytest.mark.parametrize("augment", [{"shear": 0.1}, {"rotation": -5}])
def test_bad_augment_options_are_named(augment, digits01):
    X, y = digits01
    with pytest.raises(ValueError, match="keys among.*rotation.*shift.*zoom"):
        fast_cnn(augment=augment).fit(X, y)


def test_mlp_augment_needs_square_images():
    X, y = np.random.rand(20, 10).astype("float32"), np.arange(20) % 2
    with pytest.raises(ValueError, match="10 features"):
        fast_mlp(augment=True).fit(X, y)


# -- Learning-rate schedule ----------------------------------------------------------


def _schedule(model):
    return model.model_.optimizer._learning_rate


@pytest.mark.parametrize(
    "held_out, n_zero_weights, n_train",
    [
        ({}, 0, 600),
        ({"validation_fraction": 0.25}, 0, 450),
        # Keras holds out the last floor(0.3 * 600) = 180 rows itself.
        ({"fit__validation_split": 0.3}, 0, 420),
        # Given validation_data, Keras ignores its validation_split.
        ({"validation_fraction": 0.25, "fit__validation_split": 0.3}, 0, 450),
        # scikeras drops the samples of zero weight before Keras sees them.
        ({}, 100, 500),
    ],
    ids=["all", "fraction", "keras-split", "fraction-and-split", "zero-weights"],
)
def test_one_cycle_spans_the_training_steps(
    held_out, n_zero_weights, n_train, digits01
):
    X, y = digits01  # 600 images
    weight = np.ones(len(y))
    weight[:n_zero_weights] = 0
    model = fast_mlp(epochs=3, batch_size=32, learning_rate=0.02, **held_out)
    model.fit(X, y, sample_weight=weight if n_zero_weights else None)
    total = 3 * math.ceil(n_train / 32)
    schedule = _schedule(model)
    assert schedule.warmup_steps + schedule.decay_steps == total
    assert schedule.warmup_steps == int(0.3 * total)
    assert float(schedule(0)) == pytest.approx(0.02 / 25)
    assert float(schedule(schedule.warmup_steps)) == pytest.approx(0.02)
    assert float(schedule(total)) == pytest.approx(0.02 / 2500)
    assert int(model.model_.optimizer.iterations) == total


@pytest.mark.parametrize(
    "n_train, batch_size, cnn_epochs, mlp_epochs",
    [
        (20, 20, 30, 30),  # one step an epoch: at most 30 epochs
        (250, 32, 30, 30),
        (1_000, 32, 16, 16),  # 32 steps an epoch: 16 for 500 steps
        (2_000, 62, 16, 16),
        (10_000, 256, 13, 15),
        (60_000, 256, 5, 15),  # as large as MNIST: the classifier's epochs
    ],
)
def test_auto_training_length_gives_small_data_enough_steps(
    n_train, batch_size, cnn_epochs, mlp_epochs
):
    assert auto_batch_size(n_train) == batch_size
    assert auto_epochs(n_train, batch_size, CNNClassifier._large_data_epochs) == (
        cnn_epochs
    )
    assert auto_epochs(n_train, batch_size, MLPClassifier._large_data_epochs) == (
        mlp_epochs
    )


@pytest.mark.parametrize(
    "params, n_train, epochs, batch_size",
    [
        ({}, 600, 27, 32),  # 19 steps an epoch, 27 epochs for 500 steps
        ({"validation_fraction": 0.5}, 300, 30, 32),  # what is left to train on
        ({"batch_size": 100}, 600, 30, 100),
        ({"epochs": 2}, 600, 2, 32),
        ({"epochs": 2, "batch_size": 600}, 600, 2, 600),
    ],
    ids=["auto", "held-out", "batch-size-set", "epochs-set", "both-set"],
)
def test_auto_epochs_and_batch_size_say_what_ran(
    params, n_train, epochs, batch_size, digits01
):
    X, y = digits01  # 600 images
    model = fast_mlp(**{"epochs": "auto", "batch_size": "auto", **params}).fit(X, y)
    assert (model.n_iter_, model.batch_size_) == (epochs, batch_size)
    assert len(model.history_["loss"]) == epochs
    # The one-cycle schedule spans the steps really taken, and ends with them.
    steps = epochs * math.ceil(n_train / batch_size)
    schedule = _schedule(model)
    assert schedule.warmup_steps + schedule.decay_steps == steps
    assert int(model.model_.optimizer.iterations) == steps
    assert model.get_params()["epochs"] == params.get("epochs", "auto")


@pytest.mark.parametrize("how", ["fit-argument", "routed"])
def test_epochs_given_to_fit_are_those_the_schedule_spans(how, digits01):
    X, y = digits01  # 600 images: 6 batches of 100
    if how == "routed":
        model = fast_mlp(epochs=5, batch_size=100, fit__epochs=2).fit(X, y)
    else:
        model = fast_mlp(epochs=5, batch_size=100).fit(X, y, epochs=2)
    schedule = _schedule(model)
    assert model.n_iter_ == 2
    assert schedule.warmup_steps + schedule.decay_steps == 2 * 6
    assert int(model.model_.optimizer.iterations) == 2 * 6


def test_auto_epochs_span_partial_fit_calls(digits01):
    X, y = digits01
    model = fast_mlp(epochs="auto", batch_size="auto", learning_rate=0.01)
    model.partial_fit(X[:200], y[:200], classes=np.unique(y))
    # 200 rows: batches of 32, 7 steps a call; the cycle spans 30 such calls.
    schedule = _schedule(model)
    assert (model.n_iter_, model.batch_size_) == (1, 32)
    assert schedule.warmup_steps + schedule.decay_steps == 30 * 7


@pytest.mark.parametrize("value", ["fast", 0, -1, 2.5])
@pytest.mark.parametrize("name", ["epochs", "batch_size"])
def test_epochs_and_batch_size_take_a_number_or_auto(name, value, digits01):
    X, y = digits01
    with pytest.raises(ValueError, match=f"{name}.*'auto'"):
        fast_mlp(**{name: value}).fit(X, y)


def test_constant_schedule_keeps_the_learning_rate(digits01):
    X, y = digits01
    model = fast_mlp(learning_rate=0.004, learning_rate_schedule="constant").fit(X, y)
    assert float(model.model_.optimizer.learning_rate) == pytest.approx(0.004)
    with pytest.raises(ValueError, match="learning_rate_schedule"):
        fast_mlp(learning_rate_schedule="cosine").fit(X, y)


def test_one_cycle_spans_epochs_partial_fit_calls(digits01):
    X, y = digits01
    model = fast_mlp(epochs=4, batch_size=100, learning_rate=0.01)
    for _ in range(4):
        model.partial_fit(X, y, classes=np.unique(y))
    schedule = _schedule(model)
    assert schedule.warmup_steps + schedule.decay_steps == 4 * 6
    assert int(model.model_.optimizer.iterations) == 4 * 6


# -- Presets -------------------------------------------------------------------------


def test_presets_are_the_defaults_or_named_configurations():
    assert make_preset("cnn-fast").get_params() == CNNClassifier().get_params()
    assert make_preset("mlp").get_params() == MLPClassifier().get_params()
    accurate = make_preset("cnn-accurate", random_state=3)
    assert accurate.augment and accurate.architecture == "deep"
    assert accurate.random_state == 3
    assert accurate.dtype_policy == "auto"
    assert set(PRESETS) == {"cnn-fast", "cnn-accurate", "cnn-keras-example", "mlp"}
    with pytest.raises(ValueError, match="Unknown preset 'cnn'; choose one of"):
        make_preset("cnn")


def test_best_preset_votes_over_accurate_networks_with_distinct_seeds():
    best = make_preset("cnn-best", random_state=0, n_jobs=2, epochs=3)
    members = [member for _, member in best.estimators]
    assert (len(members), best.voting, best.n_jobs) == (5, "soft", 2)
    assert len({member.random_state for member in members}) == 5
    for member in members:
        assert member.get_params() == {
            **make_preset("cnn-accurate", epochs=3).get_params(),
            "random_state": member.random_state,
        }
    same = make_preset("cnn-best", random_state=0, n_jobs=2, epochs=3)
    assert [m.random_state for _, m in same.estimators] == [
        m.random_state for m in members
    ]
    assert len(make_preset("cnn-best", n_members=2).estimators) == 2


def test_keras_example_preset_trains_as_the_example():
    model = make_preset("cnn-keras-example")
    assert (model.architecture, model.epochs, model.batch_size) == ("simple", 15, 128)
    assert (model.learning_rate, model.learning_rate_schedule) == (1e-3, "constant")
    # Keras's validation_split, as the example: the last 10% of the rows.
    assert model.get_params()["fit__validation_split"] == 0.1
    assert model.validation_fraction is None


# -- Precision ------------------------------------------------------------------------


@pytest.mark.parametrize("make_classifier", [fast_cnn, fast_mlp])
def test_bfloat16_networks_compute_in_bfloat16_and_answer_in_float32(
    make_classifier, digits01
):
    import keras

    X, y = digits01
    model = make_classifier(dtype_policy="mixed_bfloat16", epochs=3).fit(X, y)
    hidden, output = model.model_.layers[-2], model.model_.layers[-1]
    assert hidden.compute_dtype == "bfloat16" and hidden.variable_dtype == "float32"
    assert output.compute_dtype == "float32"
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert model.score(X, y) > 0.8
    # The caller's Keras policy is left as it was.
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize("has_bfloat16", [True, False])
def test_auto_precision_follows_the_cpu(has_bfloat16, digits01, monkeypatch):
    from mnistkit import machine
    from mnistkit.architectures import resolve_dtype_policy

    flags = {"avx512f", "avx512_bf16"} if has_bfloat16 else {"avx512f"}
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset(flags))
    expected_policy = "mixed_bfloat16" if has_bfloat16 else "float32"
    assert resolve_dtype_policy("auto") == expected_policy
    assert resolve_dtype_policy("float32") == "float32"
    X, y = digits01
    model = fast_cnn(dtype_policy="auto", epochs=1).fit(X, y)
    expected = "bfloat16" if has_bfloat16 else "float32"
    assert model.model_.layers[-2].compute_dtype == expected


def test_cpu_flags_decide_native_bfloat16(monkeypatch):
    from mnistkit import machine

    for flags, expected in [
        ({"avx2", "avx512f"}, False),
        ({"avx512f", "avx512_bf16"}, True),
        ({"amx_tile", "amx_bf16"}, True),
        (set(), False),
    ]:
        monkeypatch.setattr(machine, "cpu_flags", lambda flags=flags: frozenset(flags))
        assert machine.native_bfloat16() is expected
        described = machine.describe_machine()
        assert described.startswith(machine.cpu_model())
        assert ("avx512_bf16" in described) == ("avx512_bf16" in flags)


def test_unknown_dtype_policy_is_named(digits01):
    X, y = digits01
    with pytest.raises(ValueError, match="dtype_policy"):
        fast_cnn(dtype_policy="float16").fit(X, y)


# -- Data handling -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(20_000, 64), (20_000, 8, 8), (20_000, 8, 8, 1)])
def test_float32_pixels_reach_the_training_batches_without_a_copy(shape):
    import tracemalloc

    from mnistkit.runtime import keras

    # 5 MiB of float32 pixels, made before tracing starts: a copy of them
    # made by mnistkit would be among the arrays NumPy holds as the training
    # begins. (TensorFlow copies an array into its tensors; not counted.)
    X = np.random.default_rng(0).random((20_000, 64), dtype=np.float32)
    X, y = X.reshape(shape), np.arange(20_000) % 10
    held = []
    not_by_tensorflow = [
        tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain),
        tracemalloc.Filter(False, "*/tensorflow/*", all_frames=True),
        tracemalloc.Filter(False, "*/keras/*", all_frames=True),
    ]

    class NumpyArraysAtTrainBegin(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            snapshot = tracemalloc.take_snapshot().filter_traces(not_by_tensorflow)
            held.append(sum(stat.size for stat in snapshot.statistics("filename")))

    tracemalloc.start()
    try:
        fast_cnn(epochs=1, batch_size=2000, callbacks=[NumpyArraysAtTrainBegin()]).fit(
            X, y
        )
    finally:
        tracemalloc.stop()
    assert held[0] < X.nbytes / 4


def test_training_batches_are_not_autotuned():
    # Deleting an autotuned pipeline's iterator, once an epoch, stopped the
    # training for up to 5 s while tf.data's autotuning thread slept.
    from mnistkit._training import seeded_batches

    X = np.zeros((10, 4), dtype=np.float32)
    dataset, _ = seeded_batches((X, np.arange(10)), batch_size=4, seed=0)
    assert dataset.options().autotune.enabled is False
    assert [len(rows) for rows, _ in dataset] == [4, 4, 2]
