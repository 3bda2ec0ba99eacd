package ferry.store.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Who left a file behind on disk (a temporary file, a journal entry), so that a later process can tell whether its
 * writer is gone and the file can go: {@code <pid>@<host>} and a random part that begins with a token of the writing
 * process. The token tells a restarted process that got its predecessor's pid (a container's pid 1) from that
 * predecessor; the host tells apart processes of machines that share a folder (NFS), whose pids cannot be looked up,
 * and containers that share one (a cache folder mounted into two of them), whose pids mean nothing to each other.
 */
public final class WriterMark {
    /** This host, and this process's pid namespace on it: a hash of both, so that names stay short. */
    public static final String HOST = String.format("%08x", (hostName() + " " + pidNamespace()).hashCode());
    private static final String TOKEN = String.format("%08x", ThreadLocalRandom.current().nextInt());

    private WriterMark() {}

    /**
     * How long a file of a writer that cannot be looked up (on another host, or in another container) is left alone
     * after its last change.
     */
    public static final Duration FOREIGN_AGE = Duration.ofHours(1);

    /** A file's last change, looked up only when it is needed. */
    public interface LastModified {
        Instant get() throws IOException;
    }

    /**
     * Whether a file marked by {@code writer} and {@code random} was abandoned: its writer is gone, or cannot be looked
     * up and the file has not changed for {@link #FOREIGN_AGE}.
     */
    public static boolean abandoned(String writer, String random, LastModified lastModified, Instant now)
            throws IOException {
        return switch (of(writer, random)) {
            case GONE -> true;
            case RUNNING -> false;
            case ON_ANOTHER_HOST -> lastModified.get().isBefore(now.minus(FOREIGN_AGE));
        };
    }

    /** What can be told of a file's writer from its mark. */
    public enum Writer { RUNNING, GONE, ON_ANOTHER_HOST }

    /** This process: {@code <pid>@<host>}. */
    public static String writer() {
        return ProcessHandle.current().pid() + "@" + HOST;
    }

    /** A random part for this process's file names: its token, then random hex digits. */
    public static String random() {
        return TOKEN + Long.toHexString(ThreadLocalRandom.current().nextLong());
    }

    /**
     * The state of the writer of a file marked {@code writer} ({@code <pid>@<host>}, or a bare pid for this host) and
     * {@code random}; a mark that does not parse counts as running, so its file is left alone.
     */
    public static Writer of(String writer, String random) {
        int at = writer.indexOf('@');
        if (at >= 0 && !writer.substring(at + 1).equals(HOST)) {
            return Writer.ON_ANOTHER_HOST;
        }
        long pid;
        try {
            pid = Long.parseLong(at < 0 ? writer : writer.substring(0, at));
        } catch (NumberFormatException e) {
            return Writer.RUNNING;
        }
        if (pid == ProcessHandle.current().pid()) {
            return random.startsWith(TOKEN) ? Writer.RUNNING : Writer.GONE;
        }
        return ProcessHandle.of(pid).isPresent() ? Writer.RUNNING : Writer.GONE;
    }

    /** The pid namespace, such as {@code pid:[4026531836]}: containers on one host have their own. */
    static String pidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            return String.valueOf(System.getenv("HOSTNAME"));
        }
    }
}
