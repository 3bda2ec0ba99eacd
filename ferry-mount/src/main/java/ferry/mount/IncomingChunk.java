package ferry.mount;

import java.util.concurrent.CompletableFuture;

/**
 * A chunk on its way from the store: the future completes once the chunk is whole and checked, and its first bytes
 * can be read while the rest arrives. Its array is filled from the start by one fetch at a time; a retry writes the
 * same bytes again (every GET is checked to read the listed version), so what has arrived never changes.
 */
final class IncomingChunk extends CompletableFuture<byte[]> {
    /** The chunk's index in its object. */
    final long index;
    /** The CRC32C of the bytes, set before the future completes with them. */
    volatile int crc;
    private final int length;
    /** Made when the fetch starts, so that chunks waiting for their turn in a long GET hold no memory; guarded by this. */
    private byte[] bytes;
    /** Bytes [0, arrived) are in; guarded by this. */
    private int arrived;

    IncomingChunk(long index, int length) {
        this.index = index;
        this.length = length;
    }

    /** The array to fill, made on first use: a retry fills the same one again from the start. */
    synchronized byte[] start() {
        if (bytes == null) {
            bytes = new byte[length];
        }
        return bytes;
    }

    /** The bytes, of which those {@link #awaitArrived} waited for are in. */
    synchronized byte[] bytes() {
        return bytes;
    }

    /** Records that bytes [0, end) are in. */
    synchronized void arrived(int end) {
        if (end > arrived) {
            arrived = end;
            notifyAll();
        }
    }

    /**
     * Waits until bytes [0, end) are in, or the fetch ends.
     *
     * @return whether they are in; if not, the fetch failed and this future says why
     */
    synchronized boolean awaitArrived(int end) throws InterruptedException {
        while (arrived < end && !isDone()) {
            wait();
        }
        return arrived >= end;
    }

    @Override
    public boolean complete(byte[] value) {
        boolean completed = super.complete(value);
        wakeWaiters();
        return completed;
    }

    @Override
    public boolean completeExceptionally(Throwable failure) {
        boolean completed = super.completeExceptionally(failure);
        wakeWaiters();
        return completed;
    }

    private synchronized void wakeWaiters() {
        notifyAll();
    }
}
