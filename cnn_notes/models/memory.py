"""A model too large for memory is a ``ValueError`` that names ``input_shape``, not TensorFlow's
``ResourceExhaustedError`` from deep inside a weight's initialiser.

The input size is what makes a model's weights too large: a flattened feature map in front of a dense layer
(AlexNet's fc6 at 10^6 x 10^6 pixels would hold 249,984,000,256 x 4,096 floats). Two guards, both applied to
every registered builder by ``registry.register_model``:

* **before building** (``refuse_weights_beyond_memory``): for an input larger than ``DRY_RUN_PIXELS``, the builder
  first runs inside ``keras.StatelessScope(initialize_variables=False)``, where Keras creates every variable with
  its shape but allocates nothing; if the weights' bytes exceed the machine's memory, the ``ValueError`` comes at
  once. Smaller inputs skip the dry run: it would cost a second pass over the graph on every ordinary build.
* **while building** (``answering_out_of_memory``): an allocation that still fails (memory already in use, or an
  input below the threshold) is caught and answered the same way. TensorFlow's CPU allocator waits about 10 s for
  memory to be freed before it gives up, which is why the dry run comes first for large inputs.
"""

import contextlib
import functools
import math
import os
import re

import keras

# 2048 x 2048 pixels, 84 times ImageNet's 224 x 224: no chapter or test builds that large, so only an input
# that may well not fit pays for the dry run.
DRY_RUN_PIXELS = 2048 * 2048
_TENSOR_SHAPE = re.compile(r"shape\s*\[([\d,\s]+)\]")


def physical_memory_bytes():
    """The machine's memory, or None where the platform does not say (os.sysconf is POSIX)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _gib(count):
    return f"{count / 2**30:,.0f} GiB"


def _refusal(name, kwargs, needed):
    return ValueError(
        f"{name} with this `input_shape` needs {needed}. Use a smaller input_shape (or include_top=False, which "
        f"has no dense layers). Received: input_shape={kwargs.get('input_shape')!r}"
    )


def _is_large(input_shape):
    try:
        height, width = input_shape[0], input_shape[1]
        return height * width > DRY_RUN_PIXELS
    except (TypeError, IndexError):
        return False  # no shape, or a malformed one: parse_common_args reports the latter


@contextlib.contextmanager
def unallocated():
    """Models built inside it have every layer, name, shape and weight shape, and no weight's memory: Keras
    creates each variable with its shape and never runs its initialiser. Building so is 2 to 4 times faster
    (ResNet-50 0.28 s instead of 0.78 s here), which the tests of a model's structure use; such a model cannot
    be called or trained.
    """
    from keras.src.backend.common import global_state

    # Variables created in a stateless scope wait in Keras' list of uninitialised variables, which the next
    # initialising scope would allocate; these are taken off that list again (the list is not public API;
    # keras is pinned).
    pending = list(global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True))
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)


def refuse_weights_beyond_memory(fn, kwargs):
    """Raises the ``ValueError`` before any weight is allocated if ``fn(**kwargs)``'s weights would not fit in
    memory; returns at once for an ordinary input size."""
    memory = physical_memory_bytes()
    if memory is None or not _is_large(kwargs.get("input_shape")):
        return
    with unallocated():
        shapes = [tuple(w.shape) for w in fn(**kwargs).weights]
    nbytes = [math.prod(shape) * 4 for shape in shapes]  # float32
    if sum(nbytes) > memory:
        largest = shapes[nbytes.index(max(nbytes))]
        raise _refusal(
            fn.__name__,
            kwargs,
            f"{_gib(sum(nbytes))} for its weights, {_gib(max(nbytes))} for one weight of shape {largest} alone, "
            f"more than this machine's {_gib(memory)}",
        )


def answering_out_of_memory(fn):
    """``fn`` with both guards: the dry run for a large input, then the build, with a failed allocation of a
    weight answered by the same ``ValueError``."""

    @functools.wraps(fn)
    def builder(**kwargs):
        refuse_weights_beyond_memory(fn, kwargs)
        try:
            return fn(**kwargs)
        except MemoryError:
            match = None
        except Exception as error:
            import tensorflow as tf

            if not isinstance(error, tf.errors.ResourceExhaustedError):
                raise
            match = _TENSOR_SHAPE.search(str(error))
        needed = "more memory than this machine has"
        if match:
            shape = tuple(int(d) for d in match.group(1).replace(" ", "").split(",") if d)
            needed = f"{_gib(math.prod(shape) * 4)} for one weight of shape {shape} alone"
        raise _refusal(fn.__name__, kwargs, f"{needed}: it ran out of memory while allocating its weights") from None

    return builder
