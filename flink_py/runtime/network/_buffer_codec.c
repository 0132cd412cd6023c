/* A columnar encoding of the data buffers that cross processes (flink_py/runtime/network/
 * buffer_codec.py is the interface and holds the pure Python decoder; its docstring gives the
 * layout). A buffer is (values, timestamps[, keys]); the values are all tuples of one arity
 * whose every column holds one exact type (int that fits 64 bits, float, str, bool), or all
 * scalars of one such type. Then each column is a packed array, not a pickle of tuples: the
 * encoder walks the objects once to check and size them and once to copy them; the decoder
 * builds the tuples column by column. Anything else (a None, a tuple subclass such as Row, a
 * big int, a str that UTF-8 cannot hold, mixed types in a column) is not encoded here:
 * encode returns None and the caller pickles the buffer, so every record arrives exact.
 *
 * Little-endian hosts only (the build fails elsewhere and the pickle path is used). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "_buffer_codec assumes a little-endian host"
#endif

#define MAGIC 0xFC
#define VERSION 1
#define FLAG_TIMESTAMPS 1
#define FLAG_KEYS 2
#define FLAG_TUPLES 4
#define FLAG_KEYS_ARE_FIELD 8  /* each key is its record's field at index `key field` */
#define MAX_ARITY 64
#define HEADER_SIZE 8

enum { COL_INT = 'q', COL_FLOAT = 'd', COL_STR = 's', COL_BOOL = '?' };

static PyObject *pickle_loads = NULL;

/* The column code of `obj`, or 0 when no column can hold it. */
static char classify(PyObject *obj) {
    if (PyLong_CheckExact(obj)) {
        return COL_INT;
    }
    if (PyFloat_CheckExact(obj)) {
        return COL_FLOAT;
    }
    if (PyUnicode_CheckExact(obj)) {
        return COL_STR;
    }
    if (PyBool_Check(obj)) {  /* bool cannot be subclassed */
        return COL_BOOL;
    }
    return 0;
}

/* Bytes that `obj` adds to a column of `code`, or -1 when it does not fit (no exception set;
 * a MemoryError stays set and is returned as -2). */
static Py_ssize_t item_size(PyObject *obj, char code) {
    switch (code) {
    case COL_INT: {
        if (!PyLong_CheckExact(obj)) {
            return -1;
        }
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (overflow) {
            return -1;
        }
        if (v == -1 && PyErr_Occurred()) {
            return -2;
        }
        return 8;
    }
    case COL_FLOAT:
        return PyFloat_CheckExact(obj) ? 8 : -1;
    case COL_BOOL:
        return PyBool_Check(obj) ? 1 : -1;
    case COL_STR: {
        if (!PyUnicode_CheckExact(obj)) {
            return -1;
        }
        Py_ssize_t length;
        if (PyUnicode_AsUTF8AndSize(obj, &length) == NULL) {
            if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                PyErr_Clear();  /* a lone surrogate: pickle carries it */
                return -1;
            }
            return -2;
        }
        if ((uint64_t)length > UINT32_MAX) {
            return -1;
        }
        return 4 + length;
    }
    }
    return -1;
}

/* Writes `obj` (checked by item_size) at *pos; strings: the length at *lengths, the bytes at
 * *pos. */
static void write_item(PyObject *obj, char code, char **pos, char **lengths) {
    switch (code) {
    case COL_INT: {
        int overflow;
        int64_t v = (int64_t)PyLong_AsLongLongAndOverflow(obj, &overflow);
        memcpy(*pos, &v, 8);
        *pos += 8;
        break;
    }
    case COL_FLOAT: {
        double v = PyFloat_AS_DOUBLE(obj);  /* the bits as they are: NaN payloads, -0.0 */
        memcpy(*pos, &v, 8);
        *pos += 8;
        break;
    }
    case COL_BOOL:
        **pos = (char)(obj == Py_True);
        *pos += 1;
        break;
    case COL_STR: {
        Py_ssize_t length;
        const char *utf8 = PyUnicode_AsUTF8AndSize(obj, &length);  /* cached by item_size */
        uint32_t n = (uint32_t)length;
        memcpy(*lengths, &n, 4);
        *lengths += 4;
        memcpy(*pos, utf8, (size_t)length);
        *pos += length;
        break;
    }
    }
}

/* One column of `count` items: the item of record i is column_item(i). */
typedef struct {
    char code;
    PyObject *list;   /* a list of tuples (field >= 0) or of scalars (field < 0) */
    Py_ssize_t field;
} Column;

static inline PyObject *column_item(const Column *c, Py_ssize_t i) {
    PyObject *v = PyList_GET_ITEM(c->list, i);
    return c->field < 0 ? v : PyTuple_GET_ITEM(v, c->field);
}

/* The encoded size of the column, or -1 (does not fit) / -2 (error set). */
static Py_ssize_t column_size(const Column *c, Py_ssize_t count) {
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t size = item_size(column_item(c, i), c->code);
        if (size < 0) {
            return size;
        }
        total += size;
    }
    return total;
}

static void write_column(const Column *c, Py_ssize_t count, char **pos) {
    char *lengths = NULL;
    if (c->code == COL_STR) {  /* the lengths first, then the bytes */
        lengths = *pos;
        *pos += 4 * count;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        write_item(column_item(c, i), c->code, pos, &lengths);
    }
}

PyDoc_STRVAR(encode_doc,
"encode(values, timestamps, keys) -> bytes | None\n"
"--\n\n"
"The columnar encoding of a buffer, or None when its records do not fit it (the caller\n"
"pickles the buffer then). ``timestamps`` and ``keys`` are lists as long as ``values``,\n"
"or None.");

static PyObject *encode(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "encode takes 3 arguments, got %zd", nargs);
        return NULL;
    }
    PyObject *values = args[0], *timestamps = args[1], *keys = args[2];
    if (!PyList_CheckExact(values)) {
        Py_RETURN_NONE;
    }
    Py_ssize_t count = PyList_GET_SIZE(values);
    if (count == 0 || (uint64_t)count > UINT32_MAX) {
        Py_RETURN_NONE;
    }
    if ((timestamps != Py_None && (!PyList_CheckExact(timestamps)
                                   || PyList_GET_SIZE(timestamps) != count))
            || (keys != Py_None && (!PyList_CheckExact(keys)
                                    || PyList_GET_SIZE(keys) != count))) {
        Py_RETURN_NONE;
    }
    Column columns[MAX_ARITY + 2];
    Py_ssize_t ncolumns = 0, arity = 0;
    PyObject *first = PyList_GET_ITEM(values, 0);
    if (PyTuple_CheckExact(first)) {
        arity = PyTuple_GET_SIZE(first);
        if (arity == 0 || arity > MAX_ARITY) {
            Py_RETURN_NONE;
        }
        for (Py_ssize_t i = 0; i < count; i++) {  /* every record a tuple of that arity */
            PyObject *v = PyList_GET_ITEM(values, i);
            if (!PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) != arity) {
                Py_RETURN_NONE;
            }
        }
        for (Py_ssize_t f = 0; f < arity; f++) {
            char code = classify(PyTuple_GET_ITEM(first, f));
            if (code == 0) {
                Py_RETURN_NONE;
            }
            columns[ncolumns++] = (Column){code, values, f};
        }
    } else {
        char code = classify(first);
        if (code == 0) {
            Py_RETURN_NONE;
        }
        columns[ncolumns++] = (Column){code, values, -1};
    }
    int flags = arity > 0 ? FLAG_TUPLES : 0;
    Py_ssize_t timestamps_column = -1;  /* its code is not written: always int */
    if (timestamps != Py_None) {
        flags |= FLAG_TIMESTAMPS;
        timestamps_column = ncolumns;
        columns[ncolumns++] = (Column){COL_INT, timestamps, -1};
    }
    Py_ssize_t key_field = -1;
    if (keys != Py_None) {
        flags |= FLAG_KEYS;
        /* The common key selector returns a field of the record (``lambda t: t[0]``): then
         * the keys are not sent again, and the decoded key is the decoded field. */
        for (Py_ssize_t f = 0; f < arity && key_field < 0; f++) {
            if (PyList_GET_ITEM(keys, 0) == PyTuple_GET_ITEM(first, f)) {
                key_field = f;
                for (Py_ssize_t i = 1; i < count; i++) {
                    if (PyList_GET_ITEM(keys, i) !=
                            PyTuple_GET_ITEM(PyList_GET_ITEM(values, i), f)) {
                        key_field = -1;
                        break;
                    }
                }
            }
        }
        if (key_field >= 0) {
            flags |= FLAG_KEYS_ARE_FIELD;
        } else {
            char code = classify(PyList_GET_ITEM(keys, 0));
            if (code == 0) {
                Py_RETURN_NONE;
            }
            columns[ncolumns++] = (Column){code, keys, -1};
        }
    }
    /* header, the value columns' codes (one for scalars), the key column's code or the
     * index of the field the keys are */
    Py_ssize_t codes = (arity > 0 ? arity : 1) + ((flags & FLAG_KEYS) ? 1 : 0);
    Py_ssize_t total = HEADER_SIZE + codes;
    for (Py_ssize_t c = 0; c < ncolumns; c++) {
        Py_ssize_t size = column_size(&columns[c], count);
        if (size == -2) {
            return NULL;
        }
        if (size < 0) {
            Py_RETURN_NONE;
        }
        total += size;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, total);
    if (result == NULL) {
        return NULL;
    }
    char *pos = PyBytes_AS_STRING(result);
    uint32_t n = (uint32_t)count;
    pos[0] = (char)MAGIC;
    pos[1] = VERSION;
    pos[2] = (char)flags;
    pos[3] = (char)arity;
    memcpy(pos + 4, &n, 4);
    pos += HEADER_SIZE;
    for (Py_ssize_t c = 0; c < ncolumns; c++) {
        if (c == timestamps_column) {
            continue;
        }
        *pos++ = columns[c].code;
    }
    if (key_field >= 0) {
        *pos++ = (char)key_field;
    }
    for (Py_ssize_t c = 0; c < ncolumns; c++) {
        write_column(&columns[c], count, &pos);
    }
    return result;
}

/* -- decoding ------------------------------------------------------------------------------ */

typedef struct {
    const char *pos, *end;
} Reader;

static int need(Reader *r, Py_ssize_t n) {
    if (n < 0 || r->end - r->pos < n) {
        PyErr_SetString(PyExc_ValueError, "truncated columnar buffer");
        return -1;
    }
    return 0;
}

static int read_column_items(Reader *r, char code, Py_ssize_t count, PyObject **out);

/* Decodes one column of `count` items into out[0..count) (new references); on failure
 * leaves none of them set. */
static int read_column(Reader *r, char code, Py_ssize_t count, PyObject **out) {
    for (Py_ssize_t i = 0; i < count; i++) {
        out[i] = NULL;
    }
    if (read_column_items(r, code, count, out) < 0) {
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_CLEAR(out[i]);
        }
        return -1;
    }
    return 0;
}

static int read_column_items(Reader *r, char code, Py_ssize_t count, PyObject **out) {
    switch (code) {
    case COL_INT:
    case COL_FLOAT:
        if (need(r, 8 * count) < 0) {
            return -1;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *v;
            if (code == COL_INT) {
                int64_t x;
                memcpy(&x, r->pos + 8 * i, 8);
                v = PyLong_FromLongLong(x);
            } else {
                double x;
                memcpy(&x, r->pos + 8 * i, 8);
                v = PyFloat_FromDouble(x);
            }
            if (v == NULL) {
                return -1;
            }
            out[i] = v;
        }
        r->pos += 8 * count;
        return 0;
    case COL_BOOL:
        if (need(r, count) < 0) {
            return -1;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            out[i] = Py_NewRef(r->pos[i] ? Py_True : Py_False);
        }
        r->pos += count;
        return 0;
    case COL_STR: {
        if (need(r, 4 * count) < 0) {
            return -1;
        }
        const char *lengths = r->pos;
        r->pos += 4 * count;
        for (Py_ssize_t i = 0; i < count; i++) {
            uint32_t length;
            memcpy(&length, lengths + 4 * i, 4);
            if (need(r, (Py_ssize_t)length) < 0) {
                return -1;
            }
            PyObject *v = PyUnicode_DecodeUTF8(r->pos, (Py_ssize_t)length, "strict");
            if (v == NULL) {
                return -1;
            }
            out[i] = v;
            r->pos += length;
        }
        return 0;
    }
    }
    PyErr_Format(PyExc_ValueError, "unknown column type %d in a columnar buffer", code);
    return -1;
}

/* A list of `count` items decoded from one column. */
static PyObject *read_list(Reader *r, char code, Py_ssize_t count) {
    PyObject *list = PyList_New(count);  /* NULL items until filled: safe to DECREF */
    if (list == NULL) {
        return NULL;
    }
    if (read_column(r, code, count, ((PyListObject *)list)->ob_item) < 0) {
        Py_DECREF(list);
        return NULL;
    }
    return list;
}

/* The fewest bytes an item of a column of `code` takes (an unknown code: 1, refused when
 * its column is read). */
static Py_ssize_t min_item_size(char code) {
    return (code == COL_INT || code == COL_FLOAT) ? 8 : code == COL_STR ? 4 : 1;
}

static PyObject *decode_buffer(const char *data, Py_ssize_t size) {
    if (size < HEADER_SIZE || (unsigned char)data[0] != MAGIC) {
        PyErr_SetString(PyExc_ValueError, "not a columnar buffer");
        return NULL;
    }
    if (data[1] != VERSION) {
        PyErr_Format(PyExc_ValueError, "columnar buffer version %d, expected %d", data[1],
                     VERSION);
        return NULL;
    }
    int flags = (unsigned char)data[2];
    Py_ssize_t arity = (unsigned char)data[3];
    uint32_t n;
    memcpy(&n, data + 4, 4);
    Py_ssize_t count = (Py_ssize_t)n;
    Reader r = {data + HEADER_SIZE, data + size};
    if ((flags & ~(FLAG_TIMESTAMPS | FLAG_KEYS | FLAG_TUPLES | FLAG_KEYS_ARE_FIELD))
            || ((flags & FLAG_KEYS_ARE_FIELD) && !(flags & FLAG_KEYS))) {
        PyErr_SetString(PyExc_ValueError, "bad flags in a columnar buffer");
        return NULL;
    }
    Py_ssize_t ncodes = (flags & FLAG_TUPLES) ? arity : 1;
    if (ncodes == 0 || ncodes > MAX_ARITY || (!(flags & FLAG_TUPLES) && arity != 0)) {
        PyErr_SetString(PyExc_ValueError, "bad arity in a columnar buffer");
        return NULL;
    }
    if (need(&r, ncodes + ((flags & FLAG_KEYS) ? 1 : 0)) < 0) {
        return NULL;
    }
    const char *codes = r.pos;
    char key_code = (flags & FLAG_KEYS) ? codes[ncodes] : 0;
    r.pos += ncodes + ((flags & FLAG_KEYS) ? 1 : 0);
    /* every record takes at least this many of the bytes that follow: a count the payload
     * cannot hold is refused before a list or tuple is allocated for it */
    Py_ssize_t per_record = (flags & FLAG_TIMESTAMPS) ? 8 : 0;
    for (Py_ssize_t f = 0; f < ncodes; f++) {
        per_record += min_item_size(codes[f]);
    }
    if ((flags & FLAG_KEYS) && !(flags & FLAG_KEYS_ARE_FIELD)) {
        per_record += min_item_size(key_code);
    }
    if (count > (r.end - r.pos) / per_record) {
        PyErr_SetString(PyExc_ValueError, "truncated columnar buffer");
        return NULL;
    }
    PyObject *values = NULL, *timestamps = Py_None, *keys = NULL, *result = NULL;
    PyObject **column = NULL;
    Py_INCREF(Py_None);
    if (flags & FLAG_TUPLES) {
        values = PyList_New(count);
        if (values == NULL) {
            goto done;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *t = PyTuple_New(arity);  /* NULL items until filled */
            if (t == NULL) {
                goto done;
            }
            PyList_SET_ITEM(values, i, t);
        }
        /* column f, decoded whole, goes to item f of each record's tuple */
        column = PyMem_Malloc(sizeof(PyObject *) * (size_t)(count > 0 ? count : 1));
        if (column == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        PyObject **tuples = ((PyListObject *)values)->ob_item;
        for (Py_ssize_t f = 0; f < arity; f++) {
            if (read_column(&r, codes[f], count, column) < 0) {
                goto done;
            }
            for (Py_ssize_t i = 0; i < count; i++) {
                PyTuple_SET_ITEM(tuples[i], f, column[i]);
            }
        }
    } else {
        values = read_list(&r, codes[0], count);
        if (values == NULL) {
            goto done;
        }
    }
    if (flags & FLAG_TIMESTAMPS) {
        Py_DECREF(timestamps);
        timestamps = read_list(&r, COL_INT, count);
        if (timestamps == NULL) {
            goto done;
        }
    }
    if (flags & FLAG_KEYS_ARE_FIELD) {
        Py_ssize_t field = (unsigned char)key_code;
        if (!(flags & FLAG_TUPLES) || field >= arity) {
            PyErr_SetString(PyExc_ValueError, "bad key field in a columnar buffer");
            goto done;
        }
        keys = PyList_New(count);
        if (keys == NULL) {
            goto done;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            PyList_SET_ITEM(keys, i,
                            Py_NewRef(PyTuple_GET_ITEM(PyList_GET_ITEM(values, i), field)));
        }
    } else if (flags & FLAG_KEYS) {
        keys = read_list(&r, key_code, count);
        if (keys == NULL) {
            goto done;
        }
    }
    if (r.pos != r.end) {
        PyErr_SetString(PyExc_ValueError, "trailing bytes after a columnar buffer");
        goto done;
    }
    result = keys != NULL ? PyTuple_Pack(3, values, timestamps, keys)
                          : PyTuple_Pack(2, values, timestamps);
done:
    PyMem_Free(column);
    Py_XDECREF(values);
    Py_XDECREF(timestamps);
    Py_XDECREF(keys);
    return result;
}

PyDoc_STRVAR(loads_doc,
"loads(payload) -> object\n"
"--\n\n"
"An item's bytes as sent: a columnar buffer (its first byte 0xFC) decoded, anything else\n"
"unpickled.");

static PyObject *loads(PyObject *module, PyObject *payload) {
    Py_buffer view;
    if (PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result;
    if (view.len > 0 && ((const unsigned char *)view.buf)[0] == MAGIC) {
        result = decode_buffer((const char *)view.buf, view.len);
    } else {
        result = PyObject_CallOneArg(pickle_loads, payload);
    }
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL, encode_doc},
    {"loads", (PyCFunction)loads, METH_O, loads_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_buffer_codec",
    "The columnar encoding of data buffers that cross processes, compiled.", -1, methods,
};

PyMODINIT_FUNC PyInit__buffer_codec(void) {
    PyObject *pickle = PyImport_ImportModule("pickle");
    if (pickle == NULL) {
        return NULL;
    }
    pickle_loads = PyObject_GetAttrString(pickle, "loads");
    Py_DECREF(pickle);
    if (pickle_loads == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
