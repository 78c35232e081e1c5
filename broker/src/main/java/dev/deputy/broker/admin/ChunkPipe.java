package dev.deputy.broker.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded pipe of byte chunks from one writing thread to a reader on any thread. {@link java.io.PipedInputStream}
 * does not fit a thread-per-request server: it fails writes with "Read end dead" as soon as the last thread that
 * read from it has ended, and the HTTP layer reads a streamed body from a fresh virtual thread each time (exports
 * ended short, after the first 64 KiB). Here the writer blocks while {@code chunks} chunks are queued
 * (back-pressure), and fails with an IOException once the reader has closed its end.
 */
final class ChunkPipe {
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> queue;
    private final int chunkBytes;
    private volatile boolean readerClosed;

    ChunkPipe(int chunks, int chunkBytes) {
        this.queue = new ArrayBlockingQueue<>(chunks);
        this.chunkBytes = chunkBytes;
    }

    /** The writing end; closing it ends the stream the reader sees. */
    OutputStream out() {
        return new OutputStream() {
            private final byte[] buf = new byte[chunkBytes];
            private int n;
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                if (n == buf.length) {
                    flush();
                }
                buf[n++] = (byte) b;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                while (len > 0) {
                    if (n == buf.length) {
                        flush();
                    }
                    int k = Math.min(len, buf.length - n);
                    System.arraycopy(b, off, buf, n, k);
                    n += k;
                    off += k;
                    len -= k;
                }
            }

            @Override
            public void flush() throws IOException {
                if (n > 0) {
                    byte[] chunk = Arrays.copyOf(buf, n);
                    n = 0;
                    put(chunk);
                }
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                try {
                    flush();
                } finally {
                    put(END);
                }
            }
        };
    }

    private void put(byte[] chunk) throws IOException {
        try {
            while (!queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                if (readerClosed) {
                    throw new IOException("the reader closed the pipe");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing to the pipe");
        }
        if (readerClosed && chunk != END) {
            queue.clear();
            throw new IOException("the reader closed the pipe");
        }
    }

    /** The reading end, usable from any thread (one at a time); closing it makes the writer fail. */
    InputStream in() {
        return new InputStream() {
            private byte[] chunk = new byte[0];
            private int pos;
            private boolean ended;

            private boolean fill() throws IOException {
                while (!ended && pos == chunk.length) {
                    if (readerClosed) {
                        throw new IOException("pipe closed");
                    }
                    try {
                        byte[] next = queue.take();
                        if (next == END) {
                            ended = true;
                        } else {
                            chunk = next;
                            pos = 0;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while reading from the pipe");
                    }
                }
                return pos < chunk.length;
            }

            @Override
            public int read() throws IOException {
                return fill() ? chunk[pos++] & 0xFF : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (!fill()) {
                    return -1;
                }
                int k = Math.min(len, chunk.length - pos);
                System.arraycopy(chunk, pos, b, off, k);
                pos += k;
                return k;
            }

            @Override
            public int available() {
                return chunk.length - pos;
            }

            @Override
            public void close() {
                readerClosed = true;
                queue.clear(); // a writer blocked on a full queue notices within 100 ms
            }
        };
    }
}
