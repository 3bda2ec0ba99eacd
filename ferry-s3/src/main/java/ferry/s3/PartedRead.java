package ferry.s3;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.StoreException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;

/**
 * A read of a large object as ranged GETs of one part each, with the next parts fetched while the reader reads: one
 * HTTP stream caps a large object at what one connection carries, and a connection that drops costs the rest of a
 * part, not the object. Every part must come from the version the first did (its ETag), so the bytes of two versions
 * never mix. Objects up to the cutoff (that of multipart uploads) are one GET: many of them are read at once anyway,
 * and splitting them only added requests and memory (eight objects of 128 MiB read at once took longer in parts).
 *
 * <p>Parts fetched ahead wait in memory, within a budget all reads of the process share; a read that finds the
 * budget spent streams its next part straight from its GET instead, so reads never wait for one another's memory.
 * The SDK's client against AWS splits large reads by itself; this serves reads over {@link S3Http}. Opening a GET is
 * retried by {@link S3Http}; a body that breaks off is asked for again from where it broke. After a failure every
 * later read fails too: the reader cannot tell which bytes it missed.
 */
final class PartedRead extends ObjectInputStream {
    /** Parts one read fetches ahead of the one it is reading. */
    static final int AHEAD = 4;
    private static final int ATTEMPTS = 3;
    private static final long MIB = 1 << 20;
    /** Mebibytes of parts fetched ahead, for all reads: at most 256 MiB, or an eighth of the heap. */
    private static final int BUDGET_MIB = (int) (Math.min(256 * MIB, Runtime.getRuntime().maxMemory() / 8) / MIB);
    private static final Semaphore BUDGET = new Semaphore(BUDGET_MIB);

    /** Mebibytes of the shared budget held by parts now (tests wait for it to come back). */
    static int budgetInUse() {
        return BUDGET_MIB - BUDGET.availablePermits();
    }

    /** Opens a GET of bytes [start, end) of the object. */
    interface Ranges {
        S3InputStream open(long start, long end) throws IOException;
    }

    /**
     * Reads the object that {@code whole}, a GET of all of it, answered: from that stream alone when it is no larger
     * than {@code cutoff} (or carries no ETag to hold the parts to), else part by part, the first from {@code whole}
     * and the rest in ranged GETs.
     */
    static ObjectInputStream open(S3InputStream whole, Ranges ranges, long partSize, long cutoff) {
        return open(whole, ranges, partSize, cutoff, BUDGET);
    }

    /** The same, with the parts fetched ahead held within {@code budget} (mebibytes). */
    static ObjectInputStream open(S3InputStream whole, Ranges ranges, long partSize, long cutoff, Semaphore budget) {
        long size = whole.info().size();
        if (size <= cutoff || whole.length() != size || whole.info().etag().isEmpty()) {
            return whole;
        }
        return new PartedRead(ranges, whole, partSize, budget);
    }

    /** A part fetched ahead into memory, holding its share of the budget until read or given up. */
    private record Prefetch(int permits, CompletableFuture<byte[]> bytes) {}

    private final Ranges ranges;
    private final ObjectInfo info;
    private final Location location;
    private final long size;
    private final long partSize;
    private final Semaphore budget;
    private final int permitsPerPart;
    /** Parts fetched ahead, in order: the first starts where the part being read ends. */
    private final ArrayDeque<Prefetch> ahead = new ArrayDeque<>();
    /** The part being read straight from its GET, and where it ends; or null. */
    private S3InputStream streaming;
    private long streamingEnd;
    /** The fetched-ahead part being read, and what it holds of the budget; or null. */
    private byte[] buffered;
    private int bufferedPosition;
    private int bufferedPermits;
    /** Bytes handed to the reader. */
    private long position;
    /** Where the parts asked for so far end. */
    private long requested;
    private IOException failure;
    private volatile boolean closed;

    /** @param first a GET of the object from its start, read up to the end of the first part */
    private PartedRead(Ranges ranges, S3InputStream first, long partSize, Semaphore budget) {
        this.ranges = ranges;
        this.info = first.info();
        this.location = info.location();
        this.size = info.size();
        this.partSize = partSize;
        this.budget = budget;
        this.permitsPerPart = (int) Math.max(1, (partSize + MIB - 1) / MIB);
        this.streaming = first;
        this.streamingEnd = Math.min(partSize, size);
        this.requested = streamingEnd;
        fetchAhead();
    }

    @Override
    public ObjectInfo info() {
        return info;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream of " + location + " is closed");
        }
        if (failure != null) {
            throw new IOException("an earlier read of " + location + " failed: " + failure.getMessage(), failure);
        }
        if (len == 0) {
            return 0;
        }
        try {
            while (position < size) {
                if (buffered != null) {
                    int n = Math.min(len, buffered.length - bufferedPosition);
                    System.arraycopy(buffered, bufferedPosition, b, off, n);
                    bufferedPosition += n;
                    position += n;
                    if (bufferedPosition == buffered.length) { // give its memory back at once
                        buffered = null;
                        budget.release(bufferedPermits);
                    }
                    return n;
                }
                if (streaming != null) {
                    int n = readStreaming(b, off, (int) Math.min(len, streamingEnd - position));
                    position += n;
                    if (position == streamingEnd) {
                        streaming.close();
                        streaming = null;
                    }
                    return n;
                }
                nextPart();
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            failure = e instanceof IOException io ? io : new IOException(e);
            throw e;
        }
    }

    @Override
    public int available() throws IOException {
        if (buffered != null) {
            return buffered.length - bufferedPosition;
        }
        return streaming == null ? 0 : (int) Math.min(streaming.available(), streamingEnd - position);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (buffered != null) {
            buffered = null;
            budget.release(bufferedPermits);
        }
        for (Prefetch part : ahead) { // each gives its memory back once its fetch has stopped
            part.bytes().whenComplete((bytes, failure) -> budget.release(part.permits()));
        }
        ahead.clear();
        if (streaming != null) {
            streaming.close();
            streaming = null;
        }
    }

    /** Moves on to the part that starts at {@code position}: fetched ahead if it was, else streamed now. */
    private void nextPart() throws IOException {
        fetchAhead();
        Prefetch part = ahead.poll();
        if (part != null) {
            buffered = await(part);
            bufferedPosition = 0;
            bufferedPermits = part.permits();
        } else { // no memory to spare: every part asked for is read, so the next starts here
            long end = Math.min(position + partSize, size);
            streaming = openChecked(position, end);
            streamingEnd = end;
            requested = end;
        }
        fetchAhead();
    }

    /** Starts fetching the next parts, up to {@link #AHEAD} and while the budget lasts. */
    private void fetchAhead() {
        while (ahead.size() < AHEAD && requested < size && budget.tryAcquire(permitsPerPart)) {
            long start = requested;
            long end = Math.min(start + partSize, size);
            CompletableFuture<byte[]> bytes = new CompletableFuture<>();
            Thread.ofVirtual().name("ferry-s3-part").start(() -> {
                try {
                    bytes.complete(fetch(start, end));
                } catch (Throwable failure) {
                    bytes.completeExceptionally(failure);
                }
            });
            ahead.add(new Prefetch(permitsPerPart, bytes));
            requested = end;
        }
    }

    /** Fetches bytes [start, end) into memory; a body that breaks off is asked for again from where it broke. */
    private byte[] fetch(long start, long end) throws IOException {
        byte[] bytes = new byte[(int) (end - start)];
        int filled = 0;
        for (int attempt = 1; ; attempt++) {
            S3InputStream in = openChecked(start + filled, end); // a failed request was tried again by S3Http
            try (in) {
                while (filled < bytes.length) {
                    if (closed) {
                        throw new IOException("stream of " + location + " is closed");
                    }
                    int n = in.read(bytes, filled, Math.min(bytes.length - filled, 1 << 16));
                    if (n < 0) {
                        throw new StoreException(location, "a part of " + location + " ended early");
                    }
                    filled += n;
                }
                return bytes;
            } catch (IOException e) {
                if (attempt >= ATTEMPTS || closed || e instanceof InterruptedIOException) {
                    throw e;
                }
            }
        }
    }

    /** Reads from the streamed part; a body that breaks off is asked for again from where it broke. */
    private int readStreaming(byte[] b, int off, int len) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                int n = streaming.read(b, off, len);
                if (n < 0) {
                    throw new StoreException(location, "a part of " + location + " ended early");
                }
                return n;
            } catch (IOException e) {
                if (attempt >= ATTEMPTS || e instanceof InterruptedIOException) {
                    throw e;
                }
            }
            streaming.close();
            streaming = null;
            streaming = openChecked(position, streamingEnd); // a failed request was tried again by S3Http
        }
    }

    /** Opens bytes [start, end), checking that they are those bytes of the version being read. */
    private S3InputStream openChecked(long start, long end) throws IOException {
        S3InputStream in = ranges.open(start, end);
        ObjectInfo now = in.info();
        if (!now.etag().equals(info.etag()) || now.size() != size) {
            in.close();
            throw new ChangedException(location, location + " changed while it was read (ETag " + info.etag() + ", "
                    + size + " bytes, became " + now.etag() + ", " + now.size() + " bytes): read it again");
        }
        if (in.length() != end - start) {
            in.close();
            throw new StoreException(location, "the server answered a read of bytes " + start + "-" + (end - 1)
                    + " of " + location + " with " + in.length() + " bytes");
        }
        return in;
    }

    private byte[] await(Prefetch part) throws IOException {
        try {
            return part.bytes().get();
        } catch (InterruptedException e) {
            part.bytes().whenComplete((bytes, failure) -> budget.release(part.permits()));
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading " + location);
        } catch (ExecutionException e) {
            budget.release(part.permits());
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new StoreException(location, "cannot read " + location + ": " + e.getCause(), e.getCause());
        }
    }

    /** The object was replaced while it was read: what was read so far belongs to another version. */
    static final class ChangedException extends StoreException {
        ChangedException(Location location, String message) {
            super(location, message);
        }
    }
}
