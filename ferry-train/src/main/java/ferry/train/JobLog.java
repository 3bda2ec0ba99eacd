package ferry.train;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * A job's log, kept with the job: the process's output (stdout and stderr, as written) and Ferry's own notes,
 * which start with {@code [ferry <time>]}. Each line is also passed to a listener (the terminal of
 * {@code ferry train}). The last lines of the process are kept for a failure reason.
 */
final class JobLog implements Closeable {
    static final String NOTE_PREFIX = "[ferry ";
    private static final int TAIL = 20;

    private final BufferedWriter writer;
    private final Clock clock;
    private final Consumer<String> listener;
    private final Deque<String> tail = new ArrayDeque<>();

    JobLog(Path file, Clock clock, Consumer<String> listener) throws IOException {
        this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        this.clock = clock;
        this.listener = listener;
    }

    /** One of Ferry's notes. */
    void note(String message) {
        write(NOTE_PREFIX + clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS) + "] " + message);
    }

    /** One line of the process's output. */
    void process(String line) {
        synchronized (tail) {
            tail.addLast(line);
            if (tail.size() > TAIL) {
                tail.removeFirst();
            }
        }
        write(line);
    }

    /** The process's last lines, oldest first. */
    List<String> tail() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }

    private synchronized void write(String line) {
        try {
            writer.write(line);
            writer.newLine();
            writer.flush();
        } catch (IOException e) {
            // The log is a record, not the job: a full disk must not kill the training process with it.
        }
        listener.accept(line);
    }

    @Override
    public synchronized void close() throws IOException {
        writer.close();
    }
}
