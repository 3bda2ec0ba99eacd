package ferry.s3;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Ends reads of response bodies that stopped arriving. The JDK's HTTP client times out a request only until its
 * headers are in; a server that then stalls would block a reader for ever (a FUSE read, a copy). One daemon thread
 * looks at the bodies being read once a second and interrupts a reader that has waited longer than its limit for the
 * next bytes; the read then fails with a {@link HttpTimeoutException}. A slow body that keeps arriving is read to
 * its end however long it takes.
 */
final class StallGuard {
    /** Bodies whose readers are waiting for bytes now, from every store. */
    private static final Set<Guarded> READING = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService TICKS = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("ferry-s3-stall-guard").factory());

    static {
        TICKS.scheduleWithFixedDelay(StallGuard::interruptStalled, 1, 1, TimeUnit.SECONDS);
    }

    private StallGuard() {
    }

    /** {@code body}, whose reads fail once one has waited longer than {@code idle} for bytes. */
    static InputStream guard(InputStream body, Duration idle) {
        return new Guarded(body, idle);
    }

    private static void interruptStalled() {
        long now = System.nanoTime();
        for (Guarded body : READING) {
            body.interruptIfStalled(now);
        }
    }

    private static final class Guarded extends FilterInputStream {
        private final Duration idle;
        private Thread reader;
        private long waitingSince;
        private boolean stalled;

        Guarded(InputStream body, Duration idle) {
            super(body);
            this.idle = idle;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            synchronized (this) {
                reader = Thread.currentThread();
                waitingSince = System.nanoTime();
            }
            READING.add(this);
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                if (stalledNow()) {
                    super.close(); // the connection cannot be reused half-way through a body
                    throw new HttpTimeoutException("no bytes of the body arrived for " + idle.toSeconds() + " s");
                }
                throw e;
            } finally {
                READING.remove(this);
                synchronized (this) {
                    reader = null;
                    if (stalled) {
                        Thread.interrupted(); // the guard's interrupt, not the caller's
                    }
                }
            }
        }

        private synchronized boolean stalledNow() {
            return stalled;
        }

        synchronized void interruptIfStalled(long now) {
            if (reader != null && !stalled && now - waitingSince > idle.toNanos()) {
                stalled = true;
                reader.interrupt();
            }
        }
    }
}
