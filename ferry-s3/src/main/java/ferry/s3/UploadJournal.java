package ferry.s3;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The multipart uploads this host has under way, one small file each under {@code $FERRY_HOME/uploads}, named by
 * the writing process. An upload is recorded when it starts and forgotten when it completes or is aborted; one
 * whose process is gone (killed half way) is aborted by the next Ferry that writes, so a crash never leaks the
 * parts' storage.
 */
final class UploadJournal {
    /** One upload left behind by a process that no longer runs. */
    record Orphan(Path file, String bucket, String key, String uploadId) {}

    private final Path folder;

    UploadJournal(Path folder) {
        this.folder = folder;
    }

    /**
     * This process among others with its pid: a restarted container's process often gets its predecessor's pid, and
     * must abort that one's uploads, not take them for its own.
     */
    private static final String PROCESS_TOKEN = String.format("%08x", ThreadLocalRandom.current().nextInt());
    /** This host, so that hosts sharing a Ferry home (on NFS) never abort each other's uploads. */
    static final String HOST = String.format("%08x", hostName().hashCode());

    /**
     * Records an upload that just started at {@code endpoint}; returns its entry, to {@link #forget} when it ends.
     * Named {@code <pid>@<host>-<token><random>.upload}.
     */
    Path record(String endpoint, String bucket, String key, String uploadId) throws IOException {
        Files.createDirectories(folder);
        Path entry = folder.resolve(ProcessHandle.current().pid() + "@" + HOST + "-" + PROCESS_TOKEN
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".upload");
        Path temp = folder.resolve(entry.getFileName() + ".tmp");
        Files.writeString(temp, bucket + "\n" + key + "\n" + uploadId + "\n" + endpoint + "\n",
                StandardCharsets.UTF_8);
        Files.move(temp, entry, StandardCopyOption.ATOMIC_MOVE);
        return entry;
    }

    void forget(Path entry) throws IOException {
        Files.deleteIfExists(entry);
    }

    /**
     * The uploads at {@code endpoint} whose writing process is gone. Another host's are left to it, and uploads at
     * another endpoint to a run against that one.
     */
    List<Orphan> orphans(String endpoint) throws IOException {
        List<Orphan> orphans = new ArrayList<>();
        if (!Files.isDirectory(folder)) {
            return orphans;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder, "*.upload")) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!writerGone(name)) {
                    continue;
                }
                List<String> lines = Files.readAllLines(entry, StandardCharsets.UTF_8);
                if (lines.size() >= 4 && !lines.get(3).equals(endpoint)) {
                    continue;
                }
                if (lines.size() >= 3) {
                    orphans.add(new Orphan(entry, lines.get(0), lines.get(1), lines.get(2)));
                } else {
                    Files.deleteIfExists(entry); // cut short by the crash itself: nothing was started after it
                }
            }
        }
        return orphans;
    }

    /** Whether an entry's writer, named by its entry, no longer runs: false when that cannot be told (another host). */
    private static boolean writerGone(String name) {
        int dash = name.indexOf('-');
        if (dash < 0) {
            return false; // not ours
        }
        String writer = name.substring(0, dash);
        int at = writer.indexOf('@');
        if (at >= 0 && !writer.substring(at + 1).equals(HOST)) {
            return false;
        }
        long pid;
        try {
            pid = Long.parseLong(at < 0 ? writer : writer.substring(0, at));
        } catch (NumberFormatException e) {
            return false;
        }
        if (pid == ProcessHandle.current().pid()) {
            return !name.startsWith(PROCESS_TOKEN, dash + 1); // an earlier process that had this pid
        }
        return ProcessHandle.of(pid).isEmpty();
    }

    private static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            return String.valueOf(System.getenv("HOSTNAME"));
        }
    }
}
