/* The per-record loop of KeyGroupStreamPartitioner (flink_py/runtime/network/partitioners.py),
 * compiled: key each record with the user's key selector, find the key's channel in the
 * KeyGroupAssigner's memo dicts (exact int and str keys) or ask the assigner, and append the
 * record (and its timestamp, and its key when asked: the keys travel with the buffer so that
 * the consumer need not key each record again) to that channel's bucket. partitioners.py's
 * Python loop is the reference and the fallback; tests run both
 * (tests/unit/runtime/test_key_router.py).
 *
 * Nothing here decides where a key goes: a memo miss calls the assigner's subtask_of, which
 * hashes as PyFlink does and fills the memo. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The channel of `key`: from the memo dict for its exact type, else subtask_of(key).
 * Returns -1 with an exception set on failure. */
static Py_ssize_t channel_of(PyObject *key, PyObject *int_cache, PyObject *str_cache,
                             PyObject *subtask_of, Py_ssize_t n) {
    PyObject *cache = NULL;
    if (PyLong_CheckExact(key)) {
        cache = int_cache;
    } else if (PyUnicode_CheckExact(key)) {
        cache = str_cache;
    }
    if (cache != NULL) {
        PyObject *hit = PyDict_GetItemWithError(cache, key); /* borrowed */
        if (hit != NULL) {  /* put there by subtask_of: checked below when it was computed */
            return PyLong_AsSsize_t(hit);
        }
        if (PyErr_Occurred()) {
            return -1;
        }
    }
    PyObject *result = PyObject_CallOneArg(subtask_of, key);
    if (result == NULL) {
        return -1;
    }
    Py_ssize_t c = PyLong_AsSsize_t(result);
    Py_DECREF(result);
    if (c == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (c < 0 || c >= n) {
        PyErr_Format(PyExc_ValueError, "key routed to channel %zd, expected 0..%zd", c, n - 1);
        return -1;
    }
    return c;
}

static PyObject *new_buckets(Py_ssize_t n) {
    PyObject *buckets = PyList_New(n);
    if (buckets == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *bucket = PyList_New(0);
        if (bucket == NULL) {
            Py_DECREF(buckets);
            return NULL;
        }
        PyList_SET_ITEM(buckets, i, bucket);
    }
    return buckets;
}

PyDoc_STRVAR(bucket_by_key_doc,
"bucket_by_key(values, timestamps, key_selector, subtask_of, int_cache, str_cache, n,\n"
"              with_keys=False)\n"
"--\n\n"
"Splits ``values`` (a list) into ``n`` lists by the channel of each value's key; returns\n"
"``(buckets, timestamp_buckets)``, the second None when ``timestamps`` is None, and with\n"
"``with_keys`` ``(buckets, timestamp_buckets, key_buckets)``. The key selector's exception\n"
"propagates as raised.");

static PyObject *bucket_by_key(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7 && nargs != 8) {
        PyErr_Format(PyExc_TypeError, "bucket_by_key takes 7 or 8 arguments, got %zd", nargs);
        return NULL;
    }
    int with_keys = 0;
    if (nargs == 8) {
        with_keys = PyObject_IsTrue(args[7]);
        if (with_keys < 0) {
            return NULL;
        }
    }
    PyObject *values = args[0], *timestamps = args[1], *key_selector = args[2];
    PyObject *subtask_of = args[3], *int_cache = args[4], *str_cache = args[5];
    if (!PyList_Check(values)) {
        PyErr_Format(PyExc_TypeError, "values must be a list, got %.100s",
                     Py_TYPE(values)->tp_name);
        return NULL;
    }
    if (timestamps != Py_None &&
            (!PyList_Check(timestamps) || PyList_GET_SIZE(timestamps) != PyList_GET_SIZE(values))) {
        PyErr_SetString(PyExc_TypeError, "timestamps must be None or a list as long as values");
        return NULL;
    }
    if (!PyDict_CheckExact(int_cache) || !PyDict_CheckExact(str_cache)) {
        PyErr_SetString(PyExc_TypeError, "int_cache and str_cache must be dicts");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[6]);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "n must be >= 1, got %zd", n);
        return NULL;
    }
    PyObject *buckets = new_buckets(n);
    if (buckets == NULL) {
        return NULL;
    }
    PyObject *ts_buckets = NULL, *key_buckets = NULL;
    if (timestamps != Py_None) {
        ts_buckets = new_buckets(n);
        if (ts_buckets == NULL) {
            Py_DECREF(buckets);
            return NULL;
        }
    }
    if (with_keys) {
        key_buckets = new_buckets(n);
        if (key_buckets == NULL) {
            Py_DECREF(buckets);
            Py_XDECREF(ts_buckets);
            return NULL;
        }
    }
    /* The key selector may change the list it is given a value of: index it each time. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        Py_INCREF(value);
        PyObject *key = PyObject_CallOneArg(key_selector, value);
        if (key == NULL) {
            Py_DECREF(value);
            goto error;
        }
        Py_ssize_t c = channel_of(key, int_cache, str_cache, subtask_of, n);
        if (c < 0 || PyList_Append(PyList_GET_ITEM(buckets, c), value) < 0 ||
                (key_buckets != NULL &&
                 PyList_Append(PyList_GET_ITEM(key_buckets, c), key) < 0)) {
            Py_DECREF(key);
            Py_DECREF(value);
            goto error;
        }
        Py_DECREF(key);
        Py_DECREF(value);
        if (ts_buckets != NULL) {
            if (i >= PyList_GET_SIZE(timestamps)) {
                PyErr_SetString(PyExc_RuntimeError, "timestamps changed size while routing");
                goto error;
            }
            if (PyList_Append(PyList_GET_ITEM(ts_buckets, c),
                              PyList_GET_ITEM(timestamps, i)) < 0) {
                goto error;
            }
        }
    }
    PyObject *result = key_buckets != NULL
        ? PyTuple_Pack(3, buckets, ts_buckets != NULL ? ts_buckets : Py_None, key_buckets)
        : PyTuple_Pack(2, buckets, ts_buckets != NULL ? ts_buckets : Py_None);
    Py_DECREF(buckets);
    Py_XDECREF(ts_buckets);
    Py_XDECREF(key_buckets);
    return result;
error:
    Py_DECREF(buckets);
    Py_XDECREF(ts_buckets);
    Py_XDECREF(key_buckets);
    return NULL;
}

static PyMethodDef methods[] = {
    {"bucket_by_key", (PyCFunction)(void (*)(void))bucket_by_key, METH_FASTCALL,
     bucket_by_key_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_key_router",
    "The per-record loop of KeyGroupStreamPartitioner, compiled.", -1, methods,
};

PyMODINIT_FUNC PyInit__key_router(void) {
    return PyModule_Create(&module);
}
