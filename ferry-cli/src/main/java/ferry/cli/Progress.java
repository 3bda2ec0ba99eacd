package ferry.cli;

import ferry.store.PassedOver;
import ferry.transfer.TransferListener;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress display on a terminal: objects, bytes, rate and failures, redrawn a few times a second. Off
 * the terminal it prints nothing, so logs and pipes stay clean; but what was passed over is noted when it closes,
 * on a terminal or not.
 */
final class Progress implements TransferListener, AutoCloseable {
    private final PrintWriter err;
    private final String verb;
    private final AtomicLong objects = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final List<PassedOver> passedOver = Collections.synchronizedList(new ArrayList<>());
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

    @Override
    public void passedOver(PassedOver entry) {
        passedOver.add(entry);
    }

    /** Notes the source's entries that are not files, which a user may have expected copied: at most ten by name. */
    static void printPassedOver(PrintWriter err, List<PassedOver> entries) {
        if (entries.isEmpty()) {
            return;
        }
        err.println("note: passed over " + Units.count(entries.size()) + " entr" + (entries.size() == 1 ? "y" : "ies")
                + " of the source that " + (entries.size() == 1 ? "is" : "are") + " not a file:");
        for (PassedOver entry : entries.subList(0, Math.min(entries.size(), 10))) {
            err.println("  " + Escapes.name(entry.key()) + ": " + entry.what());
        }
        if (entries.size() > 10) {
            err.println("  ... and " + Units.count(entries.size() - 10) + " more");
        }
        if (entries.stream().anyMatch(e -> e.what().equals(PassedOver.FOLDER_LINK))) {
            err.println("  (cp and sync follow links to folders with --follow-links)");
        }
        err.flush();
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
        printPassedOver(err, List.copyOf(passedOver));
    }
}
