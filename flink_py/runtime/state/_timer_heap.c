/* The timer queue of flink_py/runtime/state/timer_queue.py, compiled: Flink's
 * HeapPriorityQueueSet, operation for operation (see that module for the rules and why
 * they matter). The pure Python class there is the reference and the fallback; both are
 * tested against the order Flink's own heap printed on a JVM
 * (tests/unit/runtime/test_timer_queue.py). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* -- InternalTimer ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    long long timestamp;
    PyObject *key;
    PyObject *namespace;
    Py_ssize_t index; /* place in the heap, 0 once it left */
    Py_hash_t hash;   /* of (timestamp, key, namespace), computed once */
} Timer;

static PyTypeObject TimerType;

static void Timer_dealloc(Timer *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->key);
    Py_CLEAR(self->namespace);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Timer_traverse(Timer *self, visitproc visit, void *arg) {
    Py_VISIT(self->key);
    Py_VISIT(self->namespace);
    return 0;
}

static int Timer_clear(Timer *self) {
    Py_CLEAR(self->key);
    Py_CLEAR(self->namespace);
    return 0;
}

/* The hash of (timestamp, key, namespace): CPython's tuple hash (xxHash's rounds) over the
 * timestamp itself and the hashes of the key and the namespace. */
static Py_hash_t hash_of(long long timestamp, PyObject *key, PyObject *namespace) {
#if SIZEOF_PY_UHASH_T > 4
    const Py_uhash_t prime1 = 11400714785074694791ULL, prime2 = 14029467366897019727ULL,
                     prime5 = 2870177450012600261ULL;
#define ROTATE(x) ((x << 31) | (x >> 33))
#else
    const Py_uhash_t prime1 = 2654435761UL, prime2 = 2246822519UL, prime5 = 374761393UL;
#define ROTATE(x) ((x << 13) | (x >> 19))
#endif
    Py_hash_t item_hashes[3];
    item_hashes[0] = (Py_hash_t)timestamp; /* (no int object made for it) */
    if ((item_hashes[1] = PyObject_Hash(key)) == -1) return -1;
    if ((item_hashes[2] = PyObject_Hash(namespace)) == -1) return -1;
    Py_uhash_t acc = prime5;
    for (int i = 0; i < 3; i++) {
        acc += (Py_uhash_t)item_hashes[i] * prime2;
        acc = ROTATE(acc);
        acc *= prime1;
    }
#undef ROTATE
    acc += 3 ^ (prime5 ^ 3527539UL);
    if (acc == (Py_uhash_t)-1) return 1546275796;
    return (Py_hash_t)acc;
}

static Timer *timer_new(long long timestamp, PyObject *key, PyObject *namespace) {
    /* hashed first: an unhashable key fails here, before anything was made */
    Py_hash_t hash = hash_of(timestamp, key, namespace);
    if (hash == -1) return NULL;
    Timer *timer = PyObject_GC_New(Timer, &TimerType);
    if (timer == NULL) return NULL;
    timer->hash = hash;
    timer->timestamp = timestamp;
    Py_INCREF(key);
    timer->key = key;
    Py_INCREF(namespace);
    timer->namespace = namespace;
    timer->index = 0;
    /* CPython's rule for tuples: an object that refers only to untracked objects (ints, str,
     * None, untracked tuples) cannot be part of a reference cycle, so the collector need not
     * see it. Timers of int or str keys in the void namespace (a KeyedProcessFunction's)
     * are most of a timer-heavy job's live objects; keeping them off the collector's lists
     * saves it traversing every pending timer at each collection. */
    if (PyObject_GC_IsTracked(key) || PyObject_GC_IsTracked(namespace))
        PyObject_GC_Track(timer);
    return timer;
}

static PyObject *Timer_py_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *names[] = {"timestamp", "key", "namespace", NULL};
    long long timestamp;
    PyObject *key, *namespace;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "LOO", names, &timestamp, &key, &namespace))
        return NULL;
    return (PyObject *)timer_new(timestamp, key, namespace);
}

static PyObject *Timer_repr(Timer *self) {
    return PyUnicode_FromFormat("Timer{timestamp=%lld, key=%R, namespace=%R}",
                                self->timestamp, self->key, self->namespace);
}

/* Flink's TimerHeapInternalTimer: equal when timestamp, key and namespace are equal. A timer
 * is its own key in its queue's dedup map. */
static Py_hash_t Timer_hash(Timer *self) { return self->hash; }

static PyObject *Timer_richcompare(PyObject *a, PyObject *b, int op) {
    if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, &TimerType)
            || !PyObject_TypeCheck(a, &TimerType))
        Py_RETURN_NOTIMPLEMENTED;
    Timer *x = (Timer *)a, *y = (Timer *)b;
    int equal = 1;
    if (x != y) {
        equal = x->timestamp == y->timestamp && x->hash == y->hash;
        if (equal) {
            equal = PyObject_RichCompareBool(x->key, y->key, Py_EQ);
            if (equal < 0) return NULL;
        }
        if (equal) {
            equal = PyObject_RichCompareBool(x->namespace, y->namespace, Py_EQ);
            if (equal < 0) return NULL;
        }
    }
    if (op == Py_NE) equal = !equal;
    return PyBool_FromLong(equal);
}

static PyMemberDef Timer_members[] = {
    {"timestamp", T_LONGLONG, offsetof(Timer, timestamp), READONLY, NULL},
    {"key", T_OBJECT, offsetof(Timer, key), READONLY, NULL},
    {"namespace", T_OBJECT, offsetof(Timer, namespace), READONLY, NULL},
    {"index", T_PYSSIZET, offsetof(Timer, index), READONLY, NULL},
    {NULL}};

static PyTypeObject TimerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "flink_py.runtime.state._timer_heap.InternalTimer",
    .tp_doc = "A timer: when, for which key, in which namespace (e.g. a window).",
    .tp_basicsize = sizeof(Timer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = Timer_py_new,
    .tp_dealloc = (destructor)Timer_dealloc,
    .tp_traverse = (traverseproc)Timer_traverse,
    .tp_clear = (inquiry)Timer_clear,
    .tp_repr = (reprfunc)Timer_repr,
    .tp_hash = (hashfunc)Timer_hash,
    .tp_richcompare = Timer_richcompare,
    .tp_members = Timer_members,
};

/* -- TimerHeap ---------------------------------------------------------------------------- */

/* A heap slot holds its timer's timestamp too: a sift compares slots of one array (a child
 * pair shares a cache line) instead of following a pointer to each timer it compares, which
 * in a heap of 10^5 timers is a cache miss per level. */
typedef struct {
    long long timestamp;
    Timer *timer;
} HeapEntry;

typedef struct {
    PyObject_HEAD
    PyObject *name;
    PyObject *timers;   /* dict: Timer -> itself (the dedup map: equal timers are one) */
    HeapEntry *heap;    /* heap[1..size]; heap[0] unused, so the arithmetic is Flink's */
    Py_ssize_t size;
    Py_ssize_t capacity;
} TimerHeap;

static int heap_reserve(TimerHeap *self, Py_ssize_t needed) {
    if (needed < self->capacity) return 0;
    Py_ssize_t capacity = self->capacity < 64 ? 64 : self->capacity * 2;
    while (capacity <= needed) capacity *= 2;
    HeapEntry *grown = PyMem_Realloc(self->heap, (size_t)capacity * sizeof(HeapEntry));
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->heap = grown;
    self->capacity = capacity;
    return 0;
}

static void sift_up(HeapEntry *heap, Py_ssize_t index) {
    HeapEntry entry = heap[index];
    Py_ssize_t parent_index = index >> 1;
    while (parent_index > 0 && entry.timestamp < heap[parent_index].timestamp) {
        heap[index] = heap[parent_index];
        heap[index].timer->index = index;
        index = parent_index;
        parent_index >>= 1;
    }
    heap[index] = entry;
    entry.timer->index = index;
}

static void sift_down(HeapEntry *heap, Py_ssize_t size, Py_ssize_t index) {
    HeapEntry entry = heap[index];
    Py_ssize_t child_index = index << 1;
    while (child_index <= size) {
        if (child_index < size && heap[child_index + 1].timestamp < heap[child_index].timestamp)
            child_index++;
        if (heap[child_index].timestamp >= entry.timestamp) break;
        heap[index] = heap[child_index];
        heap[index].timer->index = index;
        index = child_index;
        child_index = index << 1;
    }
    heap[index] = entry;
    entry.timer->index = index;
}

/* Takes the timer at ``index`` out of the heap and returns it (the heap's reference). */
static Timer *remove_at(TimerHeap *self, Py_ssize_t index) {
    HeapEntry *heap = self->heap;
    Timer *removed = heap[index].timer;
    HeapEntry last = heap[self->size];
    heap[self->size].timer = NULL;
    self->size--;
    removed->index = 0;
    if (last.timer != removed) {
        heap[index] = last;
        last.timer->index = index;
        sift_down(heap, self->size, index);
        if (heap[index].timer == last.timer) sift_up(heap, index);
    }
    return removed;
}

static PyObject *triple_of(Timer *timer) {
    PyObject *timestamp = PyLong_FromLongLong(timer->timestamp);
    if (timestamp == NULL) return NULL;
    PyObject *triple = PyTuple_Pack(3, timestamp, timer->key, timer->namespace);
    Py_DECREF(timestamp);
    return triple;
}

static int TimerHeap_init(TimerHeap *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"name", NULL};
    PyObject *name;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U", names, &name)) return -1;
    Py_INCREF(name);
    Py_XSETREF(self->name, name);
    if (self->timers == NULL && (self->timers = PyDict_New()) == NULL) return -1;
    return 0;
}

static void TimerHeap_dealloc(TimerHeap *self) {
    PyObject_GC_UnTrack(self);
    for (Py_ssize_t i = 1; i <= self->size; i++) Py_XDECREF(self->heap[i].timer);
    PyMem_Free(self->heap);
    Py_CLEAR(self->name);
    Py_CLEAR(self->timers);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int TimerHeap_traverse(TimerHeap *self, visitproc visit, void *arg) {
    Py_VISIT(self->timers);
    for (Py_ssize_t i = 1; i <= self->size; i++) Py_VISIT(self->heap[i].timer);
    return 0;
}

static int TimerHeap_clear(TimerHeap *self) {
    Py_ssize_t size = self->size;
    self->size = 0;
    for (Py_ssize_t i = 1; i <= size; i++) Py_CLEAR(self->heap[i].timer);
    Py_CLEAR(self->timers);
    return 0;
}

/* add(timestamp, key, namespace): True if added, False if an equal timer is held */
static PyObject *heap_add(TimerHeap *self, PyObject *timestamp_object, PyObject *key,
                          PyObject *namespace) {
    long long timestamp = PyLong_AsLongLong(timestamp_object);
    if (timestamp == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_OverflowError,
                         "a timer's timestamp must fit a Java long (%lld..%lld), got %R",
                         LLONG_MIN, LLONG_MAX, timestamp_object);
        }
        return NULL;
    }
    if (heap_reserve(self, self->size + 1) < 0) return NULL;
    Timer *timer = timer_new(timestamp, key, namespace);
    if (timer == NULL) return NULL;
    /* one probe of the dedup map: a timer already held equal to this one stays, and the new
     * one is dropped */
    PyObject *held = PyDict_SetDefault(self->timers, (PyObject *)timer, (PyObject *)timer);
    if (held != (PyObject *)timer) { /* (borrowed) */
        Py_DECREF(timer);
        if (held == NULL) return NULL;
        Py_RETURN_FALSE;
    }
    self->size++;
    self->heap[self->size].timestamp = timestamp;
    self->heap[self->size].timer = timer; /* the heap keeps the reference */
    sift_up(self->heap, self->size);
    Py_RETURN_TRUE;
}

static PyObject *TimerHeap_add(TimerHeap *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "add() takes (timestamp, key, namespace), got %zd arguments", nargs);
        return NULL;
    }
    return heap_add(self, args[0], args[1], args[2]);
}

static PyObject *TimerHeap_remove(TimerHeap *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "remove() takes (timestamp, key, namespace), got %zd arguments", nargs);
        return NULL;
    }
    long long timestamp = PyLong_AsLongLong(args[0]);
    if (timestamp == -1 && PyErr_Occurred()) return NULL;
    Timer *probe = timer_new(timestamp, args[1], args[2]);
    if (probe == NULL) return NULL;
    PyObject *found = PyDict_GetItemWithError(self->timers, (PyObject *)probe); /* borrowed */
    Py_DECREF(probe);
    if (found == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_FALSE;
    }
    Timer *removed = remove_at(self, ((Timer *)found)->index);
    int failed = PyDict_DelItem(self->timers, (PyObject *)removed);
    Py_DECREF(removed);
    if (failed) return NULL;
    Py_RETURN_TRUE;
}

static PyObject *poll_head(TimerHeap *self) {
    /* out of the dedup map first: a key's __eq__ may raise, and then the heap is unchanged */
    if (PyDict_DelItem(self->timers, (PyObject *)self->heap[1].timer) < 0) return NULL;
    return (PyObject *)remove_at(self, 1); /* the heap's reference, handed over */
}

static PyObject *TimerHeap_poll(TimerHeap *self, PyObject *unused) {
    if (self->size == 0) {
        PyErr_SetString(PyExc_IndexError, "poll from an empty timer queue");
        return NULL;
    }
    return poll_head(self);
}

static PyObject *TimerHeap_pop_due(TimerHeap *self, PyObject *arg) {
    long long time = PyLong_AsLongLong(arg);
    if (time == -1 && PyErr_Occurred()) return NULL;
    if (self->size == 0 || self->heap[1].timestamp > time) Py_RETURN_NONE;
    return poll_head(self);
}

static PyObject *TimerHeap_peek(TimerHeap *self, PyObject *unused) {
    if (self->size == 0) Py_RETURN_NONE;
    Py_INCREF(self->heap[1].timer);
    return (PyObject *)self->heap[1].timer;
}

static PyObject *TimerHeap_peek_time(TimerHeap *self, PyObject *unused) {
    if (self->size == 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(self->heap[1].timestamp);
}

static PyObject *TimerHeap_iter(TimerHeap *self) {
    PyObject *triples = PyList_New(self->size);
    if (triples == NULL) return NULL;
    for (Py_ssize_t i = 1; i <= self->size; i++) {
        PyObject *triple = triple_of(self->heap[i].timer);
        if (triple == NULL) {
            Py_DECREF(triples);
            return NULL;
        }
        PyList_SET_ITEM(triples, i - 1, triple);
    }
    PyObject *iterator = PyObject_GetIter(triples);
    Py_DECREF(triples);
    return iterator;
}

static Py_ssize_t TimerHeap_len(TimerHeap *self) { return self->size; }

static PyMethodDef TimerHeap_methods[] = {
    {"add", (PyCFunction)(void (*)(void))TimerHeap_add, METH_FASTCALL,
     "add(timestamp, key, namespace): adds the timer unless held; True if added."},
    {"remove", (PyCFunction)(void (*)(void))TimerHeap_remove, METH_FASTCALL,
     "remove(timestamp, key, namespace): removes the timer if held; True if it was."},
    {"poll", (PyCFunction)TimerHeap_poll, METH_NOARGS, "Removes and returns the head."},
    {"pop_due", (PyCFunction)TimerHeap_pop_due, METH_O,
     "pop_due(time): the head if its timestamp <= time, removed; else None."},
    {"peek", (PyCFunction)TimerHeap_peek, METH_NOARGS, "The head (None when empty)."},
    {"peek_time", (PyCFunction)TimerHeap_peek_time, METH_NOARGS,
     "The head's timestamp (None when empty)."},
    {NULL}};

static PyMemberDef TimerHeap_members[] = {
    {"name", T_OBJECT, offsetof(TimerHeap, name), READONLY, NULL},
    {NULL}};

static PySequenceMethods TimerHeap_as_sequence = {.sq_length = (lenfunc)TimerHeap_len};

static PyTypeObject TimerHeapType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "flink_py.runtime.state._timer_heap.TimerHeap",
    .tp_doc = "Flink's HeapPriorityQueueSet of timers (see flink_py.runtime.state.timer_queue).",
    .tp_basicsize = sizeof(TimerHeap),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)TimerHeap_init,
    .tp_dealloc = (destructor)TimerHeap_dealloc,
    .tp_traverse = (traverseproc)TimerHeap_traverse,
    .tp_clear = (inquiry)TimerHeap_clear,
    .tp_iter = (getiterfunc)TimerHeap_iter,
    .tp_methods = TimerHeap_methods,
    .tp_members = TimerHeap_members,
    .tp_as_sequence = &TimerHeap_as_sequence,
};

/* -- EventTimeRegistrar ------------------------------------------------------------------ */

/* ``register_event_time_timer(timestamp)`` of a keyed TimerService, in C: adds the timer for
 * the backend's current key in one namespace. A KeyedProcessFunction calls it once per record
 * (W5), and a Python method around ``add`` cost a frame each time. A timestamp that is not an
 * exact int goes through ``validate`` first (which raises for what is not a timestamp). */
typedef struct {
    PyObject_HEAD
    TimerHeap *heap;
    PyObject *backend;
    PyObject *namespace;
    PyObject *validate;
    vectorcallfunc vectorcall;
} Registrar;

static PyObject *current_key_name; /* "current_key", interned */

static PyObject *Registrar_vectorcall(PyObject *callable, PyObject *const *args,
                                      size_t nargsf, PyObject *kwnames) {
    Registrar *self = (Registrar *)callable;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "register_event_time_timer() takes (timestamp)");
        return NULL;
    }
    PyObject *timestamp = args[0];
    Py_INCREF(timestamp);
    if (!PyLong_CheckExact(timestamp)) {
        Py_SETREF(timestamp, PyObject_CallOneArg(self->validate, timestamp));
        if (timestamp == NULL) return NULL;
    }
    PyObject *key = PyObject_GetAttr(self->backend, current_key_name);
    if (key == NULL) {
        Py_DECREF(timestamp);
        return NULL;
    }
    PyObject *added = heap_add(self->heap, timestamp, key, self->namespace);
    Py_DECREF(key);
    Py_DECREF(timestamp);
    if (added == NULL) return NULL;
    Py_DECREF(added);
    Py_RETURN_NONE;
}

static PyTypeObject RegistrarType;

static PyObject *Registrar_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *names[] = {"heap", "backend", "namespace", "validate", NULL};
    PyObject *heap, *backend, *namespace, *validate;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOO", names, &TimerHeapType, &heap,
                                     &backend, &namespace, &validate))
        return NULL;
    if (!PyCallable_Check(validate)) {
        PyErr_Format(PyExc_TypeError, "validate must be callable, got %R", validate);
        return NULL;
    }
    Registrar *self = (Registrar *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    Py_INCREF(heap);
    self->heap = (TimerHeap *)heap;
    Py_INCREF(backend);
    self->backend = backend;
    Py_INCREF(namespace);
    self->namespace = namespace;
    Py_INCREF(validate);
    self->validate = validate;
    self->vectorcall = Registrar_vectorcall;
    return (PyObject *)self;
}

static int Registrar_traverse(Registrar *self, visitproc visit, void *arg) {
    Py_VISIT(self->heap);
    Py_VISIT(self->backend);
    Py_VISIT(self->namespace);
    Py_VISIT(self->validate);
    return 0;
}

static int Registrar_clear(Registrar *self) {
    Py_CLEAR(self->heap);
    Py_CLEAR(self->backend);
    Py_CLEAR(self->namespace);
    Py_CLEAR(self->validate);
    return 0;
}

static void Registrar_dealloc(Registrar *self) {
    PyObject_GC_UnTrack(self);
    Registrar_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject RegistrarType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "flink_py.runtime.state._timer_heap.EventTimeRegistrar",
    .tp_doc = "EventTimeRegistrar(heap, backend, namespace, validate): "
              "register_event_time_timer(timestamp) for backend.current_key.",
    .tp_basicsize = sizeof(Registrar),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Registrar, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_new = Registrar_new,
    .tp_dealloc = (destructor)Registrar_dealloc,
    .tp_traverse = (traverseproc)Registrar_traverse,
    .tp_clear = (inquiry)Registrar_clear,
};

static struct PyModuleDef timer_heap_module = {
    PyModuleDef_HEAD_INIT, "_timer_heap",
    "Flink's heap timer queue, compiled (flink_py.runtime.state.timer_queue).", -1, NULL};

PyMODINIT_FUNC PyInit__timer_heap(void) {
    if (PyType_Ready(&TimerType) < 0 || PyType_Ready(&TimerHeapType) < 0
            || PyType_Ready(&RegistrarType) < 0)
        return NULL;
    if ((current_key_name = PyUnicode_InternFromString("current_key")) == NULL) return NULL;
    PyObject *module = PyModule_Create(&timer_heap_module);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "InternalTimer", (PyObject *)&TimerType) < 0
            || PyModule_AddObjectRef(module, "TimerHeap", (PyObject *)&TimerHeapType) < 0
            || PyModule_AddObjectRef(module, "EventTimeRegistrar", (PyObject *)&RegistrarType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
