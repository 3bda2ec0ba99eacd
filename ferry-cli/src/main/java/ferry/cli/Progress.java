package ferry.cli;

import ferry.transfer.TransferListener;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress display on a terminal: objects, bytes, rate and failures, redrawn a few times a second. Off
 * the terminal it prints nothing, so logs and pipes stay clean.
 */
final class Progress implements TransferListener, AutoCloseable {
    private final PrintWriter err;
    private final String verb;
    private final AtomicLong objects = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final long start = System.nanoTime();
    private final Thread painter;
    private volatile boolean running = true;

    private Progress(PrintWriter err, String verb, boolean show) {
        this.err = err;
        this.verb = verb;
        this.painter = show ? Thread.ofPlatform().daemon().name("ferry-progress").start(this::paintLoop) : null;
    }

    static Progress start(Ferry ferry, String verb) {
        return new Progress(ferry.err, verb, ferry.terminal);
    }

    @Override
    public void objectDone(String key, long size) {
        objects.incrementAndGet();
        bytes.addAndGet(size);
    }

    @Override
    public void objectFailed(String key, Exception error) {
        failures.incrementAndGet();
    }

    private void paintLoop() {
        while (running) {
            try {
                Thread.sleep(200); // a display refresh, not a wait for a condition
            } catch (InterruptedException e) {
                return;
            }
            paint();
        }
    }

    private synchronized void paint() {
        double seconds = Math.max((System.nanoTime() - start) / 1e9, 1e-3);
        String line = String.format(Locale.ROOT, "%s %s objects, %s (%s/s, %.0f objects/s)%s  %.1f s", verb,
                Units.count(objects.get()), Units.bytes(bytes.get()), Units.bytes(bytes.get() / seconds),
                objects.get() / seconds, failures.get() > 0 ? ", " + failures.get() + " failed" : "", seconds);
        err.print("\r\033[K" + line);
        err.flush();
    }

    @Override
    public void close() {
        if (painter != null) {
            running = false;
            painter.interrupt();
            try {
                painter.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                err.print("\r\033[K");
                err.flush();
            }
        }
    }
}
