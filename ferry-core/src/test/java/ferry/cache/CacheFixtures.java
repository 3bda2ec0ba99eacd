package ferry.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.zip.CRC32C;

/** Chunk contents, the documented file layout, and captured log records, for the cache tests. */
final class CacheFixtures {
    private CacheFixtures() {}

    /** Bytes that depend only on the key, so any reader can tell whether it got the right ones. */
    static byte[] content(ChunkKey key, int length) {
        byte[] bytes = new byte[length];
        new Random(key.hashCode() * 31L + length).nextBytes(bytes);
        return bytes;
    }

    static int crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }

    static boolean put(ChunkCache cache, ChunkKey key, byte[] bytes) {
        return cache.put(key, ByteBuffer.wrap(bytes), crc(bytes));
    }

    /** The whole chunk as read from the cache, or null on a miss. */
    static byte[] read(ChunkCache cache, ChunkKey key, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        int read = cache.read(key, 0, buffer);
        return read < 0 ? null : Arrays.copyOf(buffer.array(), read);
    }

    /** Where the class Javadoc says a chunk lives: chunks/&lt;2 hex&gt;/&lt;sha256 of objectId&gt;.&lt;index&gt;. */
    static Path chunkFile(Path dir, ChunkKey key) {
        return dir.resolve("chunks").resolve(hashOf(key.objectId()).substring(0, 2))
                .resolve(hashOf(key.objectId()) + "." + key.index());
    }

    /** The SHA-256 hex of an object id, which names its chunks. */
    static String hashOf(String objectId) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(objectId.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Every regular file under the chunks folder; files other processes delete meanwhile are left out. */
    static List<Path> files(Path dir) throws IOException {
        List<Path> found = new ArrayList<>();
        collect(dir.resolve("chunks"), found);
        found.sort(null);
        return found;
    }

    private static void collect(Path folder, List<Path> found) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    collect(entry, found);
                } else if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                    found.add(entry);
                }
            }
        } catch (NoSuchFileException e) {
            // Removed by another process while listing.
        }
    }

    /**
     * Disk space the chunk files take, as the file system reports it ({@code st_blocks}, through {@code find}):
     * what the budget limits, measured without the cache's own arithmetic.
     */
    static long allocatedChunkBytes(Path dir) throws IOException {
        Process find = new ProcessBuilder("find", dir.resolve(CacheLayout.CHUNKS).toString(), "-type", "f",
                "-regextype", "posix-extended", "-regex", ".*/[0-9a-f]{64}\\.[0-9]+", "-printf", "%b\\n")
                .redirectErrorStream(true).start();
        String output = new String(find.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit;
        try {
            exit = find.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for find");
        }
        if (exit != 0 && !output.contains("No such file")) { // a file evicted while listed
            throw new IOException("find failed: " + output);
        }
        long sectors = output.lines().filter(line -> line.matches("[0-9]+")).mapToLong(Long::parseLong).sum();
        return sectors * 512; // find's %b counts 512-byte units
    }

    /** Bytes of chunk files (named by a number), counted by their sizes. */
    static long chunkBytes(Path dir) throws IOException {
        long sum = 0;
        for (Path file : files(dir)) {
            if (file.getFileName().toString().matches("[0-9a-f]{64}\\.[0-9]+")) {
                try {
                    sum += Files.size(file);
                } catch (NoSuchFileException e) {
                    // Evicted while counting.
                }
            }
        }
        return sum;
    }

    /** Collects what the cache logs while open; close it to stop. */
    static final class Logs extends Handler implements AutoCloseable {
        private final Logger logger = Logger.getLogger(ChunkCache.class.getName());
        final List<LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();

        Logs() {
            logger.addHandler(this);
        }

        List<String> warnings() {
            return records.stream()
                    .filter(r -> r.getLevel() == java.util.logging.Level.WARNING)
                    .map(LogRecord::getMessage)
                    .toList();
        }

        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}
