/* A socket send that does not block and keeps the GIL
 * (flink_py/runtime/network/socket_io.py is the interface and the fallback).
 *
 * Python's socket methods release the GIL around every system call. A thread that gives the
 * GIL up while another thread of its process runs Python gets it back only when that thread
 * is made to drop it, after up to sys.getswitchinterval() (5 ms): a task thread returning
 * credits to its producer, or a data-stream thread sending a batch, waited that long for a
 * call of a few microseconds, and a keyed exchange between slot processes ran at the speed of
 * those waits. A call that cannot block (MSG_DONTWAIT) is as short as any C function run with
 * the GIL held, so this one keeps it; when the call would block, the caller falls back to the
 * socket's own method, which waits with the GIL released. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static int fd_of(PyObject *value) {
    long fd = PyLong_AsLong(value);
    if (fd == -1 && PyErr_Occurred()) return -1;
    if (fd < 0 || fd > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "a file descriptor must be 0..%d, got %ld", INT_MAX, fd);
        return -1;
    }
    return (int)fd;
}

/* send_nowait(fd, data) -> bytes sent, or -1 when the socket's buffer is full */
static PyObject *send_nowait(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "send_nowait() takes (fd, data), got %zd arguments", nargs);
        return NULL;
    }
    int fd = fd_of(args[0]);
    if (fd < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) return NULL;
    ssize_t sent;
    do {
        sent = send(fd, view.buf, (size_t)view.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    int error = errno;
    PyBuffer_Release(&view);
    if (sent < 0) {
        if (error == EAGAIN || error == EWOULDBLOCK) return PyLong_FromLong(-1);
        errno = error;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromSsize_t(sent);
}

static PyMethodDef socket_io_methods[] = {
    {"send_nowait", (PyCFunction)(void (*)(void))send_nowait, METH_FASTCALL,
     "send_nowait(fd, data): sends what fits without blocking, keeping the GIL; the number "
     "of bytes sent, or -1 if none fit."},
    {NULL}};

static struct PyModuleDef socket_io_module = {
    PyModuleDef_HEAD_INIT, "_socket_io",
    "A non-blocking socket send that keeps the GIL (flink_py.runtime.network.socket_io).", -1,
    socket_io_methods};

PyMODINIT_FUNC PyInit__socket_io(void) { return PyModule_Create(&socket_io_module); }
