package ferry.mount;

import java.util.concurrent.CompletableFuture;

/**
 * A chunk on its way from the store: the future completes once the chunk is whole and checked, and its first bytes
 * can be read while the rest arrives. Its array is filled from the start by one fetch at a time; a retry writes the
 * same bytes again (every GET is checked to read the listed version), so what has arrived never changes.
 */
final class IncomingChunk extends CompletableFuture<byte[]> {
    final byte[] bytes;
    /** Bytes [0, arrived) are in; guarded by this. */
    private int arrived;

    IncomingChunk(int length) {
        this.bytes = new byte[length];
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
