package ferry.cache;

import com.fasterxml.jackson.databind.ObjectMapper;
import ferry.checksum.Digests;
import ferry.store.local.FileErrors;
import ferry.store.local.LocalStore;
import ferry.store.local.WriterMark;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where the cache keeps what (see {@link ChunkCache}), and the file operations that only depend on names. */
final class CacheLayout {
    static final String CHUNKS = "chunks";
    static final String LEDGER = "ledger";
    static final String BUDGET = "budget";
    static final String OBJECT_FILE = "object";
    static final String TEMP_SUFFIX = LocalStore.TEMP_SUFFIX;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(Digests::sha256);

    final Path dir;
    final Path chunks;

    private CacheLayout(Path dir) {
        this.dir = dir;
        this.chunks = dir.resolve(CHUNKS);
    }

    /** Creates the cache folder if needed, with messages that say what is wrong with a path that cannot be one. */
    static CacheLayout create(Path dir) throws IOException {
        CacheLayout layout = new CacheLayout(dir);
        try {
            Files.createDirectories(layout.chunks);
        } catch (IOException e) {
            Path file = fileInTheWay(layout.chunks);
            if (file != null) {
                throw new NotDirectoryException((file.equals(dir) ? "cache folder " + dir
                        : "cannot create cache folder " + dir + ": " + file) + " is a file, not a folder; remove it or "
                        + "choose another cache folder");
            }
            if (e instanceof AccessDeniedException denied) {
                throw new AccessDeniedException(dir.toString(), null, "cannot create cache folder " + dir
                        + ": permission denied on " + denied.getFile() + "; choose a folder you can write to");
            }
            throw new IOException("cannot create cache folder " + dir + ": " + FileErrors.reason(e)
                    + "; choose another cache folder", e);
        }
        if (!Files.isWritable(layout.chunks)) {
            throw new AccessDeniedException(dir.toString(), null, "cache folder " + dir
                    + " is not writable; fix its owner and mode or choose another cache folder");
        }
        return layout;
    }

    /** The first path on the way to {@code path} that exists but is not a folder, or null. */
    private static Path fileInTheWay(Path path) {
        Path absolute = path.toAbsolutePath();
        Path current = absolute.getRoot();
        for (Path name : absolute) {
            current = current.resolve(name);
            if (Files.exists(current) && !Files.isDirectory(current)) {
                return current.equals(path.toAbsolutePath()) ? path : current;
            }
        }
        return null;
    }

    Path ledgerFile() {
        return dir.resolve(LEDGER);
    }

    /** The budget the folder was last opened with, or -1 if none is recorded (or the record is unreadable). */
    static long readBudget(Path dir) {
        try {
            return Long.parseLong(Files.readString(dir.resolve(BUDGET)).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Records the budget, atomically; a failure only costs the next opener the default. */
    void writeBudget(long budget) {
        if (readBudget(dir) == budget) {
            return;
        }
        Path temp = dir.resolve(tempName(BUDGET, 0));
        try {
            Files.writeString(temp, budget + "\n");
            Files.move(temp, dir.resolve(BUDGET), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // a stray temporary file at the top of the folder is never scanned
            }
        }
    }

    /** {@code chunks/<first 2 hex digits>/<SHA-256 hex of objectId>}: the fan-out keeps folders small. */
    Path folderOf(String objectId) {
        MessageDigest digest = SHA_256.get();
        String hash = HexFormat.of().formatHex(digest.digest(objectId.getBytes(StandardCharsets.UTF_8)));
        return chunks.resolve(hash.substring(0, 2)).resolve(hash);
    }

    static String chunkName(long index) {
        return Long.toString(index);
    }

    /** Chunk files are named by their index in decimal and nothing else, so no other file is taken for one. */
    static boolean isChunkName(String name) {
        if (name.isEmpty() || name.length() > 19 || (name.length() > 1 && name.charAt(0) == '0')) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code .<final name>.<pid>.<random>.<bytes>.ferry-tmp}: the leading dot and suffix keep it from looking like a
     * chunk, the writer ({@link WriterMark#writer()}) tells whether it still runs, and the size it will have lets a
     * scan count a chunk still being written against the budget. The random part is a {@link WriterMark#random()}, so
     * a restarted process that got the same pid (a container's pid 1) knows its predecessor's files for dead ones.
     */
    static String tempName(String finalName, long bytes) {
        return "." + finalName + "." + WriterMark.writer() + "." + WriterMark.random() + "." + bytes + TEMP_SUFFIX;
    }

    /** A temporary file's parts, or null if the name is not one of ours. */
    record Temp(String finalName, String writer, String random, long bytes) {
        static Temp parse(String name) {
            if (!name.startsWith(".") || !name.endsWith(TEMP_SUFFIX)) {
                return null;
            }
            String[] parts = name.split("\\.");
            // "", final name, pid[@host], random, bytes, "ferry-tmp"
            if (parts.length != 6) {
                return null;
            }
            try {
                return new Temp(parts[1], parts[2], parts[3], Long.parseLong(parts[4]));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /**
         * Whether the writer may still be writing {@code file}: a writer in another container (or on another host)
         * cannot be looked up, so its file is taken for abandoned only once it has not changed for an hour.
         */
        boolean writerAlive(Path file) {
            try {
                return !WriterMark.abandoned(writer, random, () -> Files.getLastModifiedTime(file).toInstant(),
                        Instant.now());
            } catch (IOException e) {
                return false; // gone already
            }
        }

        boolean isChunk() {
            return isChunkName(finalName);
        }
    }

    record ChunkFile(Path folder, String name, long bytes, long modifiedNanos) {
        Path path() {
            return folder.resolve(name);
        }
    }

    /** One object's folder: its chunk files, and the bytes of chunks that live processes are writing into it. */
    record Folder(Path path, List<ChunkFile> chunks, long pendingBytes) {
        long chunkBytes() {
            long sum = 0;
            for (ChunkFile chunk : chunks) {
                sum += chunk.bytes();
            }
            return sum;
        }
    }

    record Scan(List<Folder> folders) {
        /** What the folder holds against the budget: chunk files, and chunks being written at their final size. */
        long bytes() {
            long sum = 0;
            for (Folder folder : folders) {
                sum += folder.chunkBytes() + folder.pendingBytes();
            }
            return sum;
        }

        long pendingBytes() {
            long sum = 0;
            for (Folder folder : folders) {
                sum += folder.pendingBytes();
            }
            return sum;
        }

        List<ChunkFile> chunkFiles() {
            List<ChunkFile> all = new ArrayList<>();
            for (Folder folder : folders) {
                all.addAll(folder.chunks());
            }
            return all;
        }
    }

    /**
     * Lists every object folder. Files may vanish while it runs (other processes evict), which only leaves them out.
     * With {@code deleteAbandoned}, temporary files whose writer is gone are deleted on the way.
     */
    Scan scan(boolean deleteAbandoned) throws IOException {
        List<Folder> folders = new ArrayList<>();
        for (Path fan : list(chunks)) {
            for (Path folder : list(fan)) {
                if (Files.isDirectory(folder)) {
                    folders.add(scanFolder(folder, deleteAbandoned));
                }
            }
        }
        return new Scan(folders);
    }

    Folder scanFolder(Path folder, boolean deleteAbandoned) throws IOException {
        List<ChunkFile> chunkFiles = new ArrayList<>();
        long pending = 0;
        for (Path file : list(folder)) {
            String name = file.getFileName().toString();
            if (isChunkName(name)) {
                try {
                    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                    if (attributes.isRegularFile()) {
                        chunkFiles.add(new ChunkFile(folder, name, attributes.size(),
                                attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS)));
                    }
                } catch (NoSuchFileException e) {
                    // Evicted by another process since the listing.
                }
                continue;
            }
            Temp temp = Temp.parse(name);
            if (temp == null) {
                continue;
            }
            if (temp.writerAlive(file)) {
                pending += temp.isChunk() ? temp.bytes() : 0;
            } else if (deleteAbandoned) {
                Files.deleteIfExists(file);
            }
        }
        return new Folder(folder, chunkFiles, pending);
    }

    /**
     * Deletes an object's chunks and description, and its folder when nothing else is in it; returns the chunk bytes
     * freed. A chunk a live process is still writing stays (its temporary file keeps the folder).
     */
    long deleteObjectFolder(Path folder) throws IOException {
        Folder scanned = scanFolder(folder, true);
        long freed = 0;
        for (ChunkFile chunk : scanned.chunks()) {
            freed += Files.deleteIfExists(chunk.path()) ? chunk.bytes() : 0;
        }
        Files.deleteIfExists(folder.resolve(OBJECT_FILE));
        removeIfEmpty(folder);
        return freed;
    }

    /**
     * Removes an object folder once no chunk is left in it. Callers hold the ledger lock, under which every temporary
     * file is created, so a folder without chunks or temporary files has no writer about to use it.
     */
    void removeIfEmpty(Path folder) throws IOException {
        List<Path> files = list(folder);
        for (Path file : files) {
            String name = file.getFileName().toString();
            Temp temp = Temp.parse(name);
            if (isChunkName(name) || (temp != null && temp.writerAlive(file))) {
                return;
            }
        }
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.equals(OBJECT_FILE) || Temp.parse(name) != null) {
                Files.deleteIfExists(file);
            }
        }
        try {
            Files.deleteIfExists(folder);
        } catch (DirectoryNotEmptyException e) {
            // Something not ours was put there; leave the folder.
        }
    }

    /** What {@link ChunkCache#describe} records about an object, kept as JSON in its folder. */
    record Description(String objectId, String location, long size) {}

    /** Writes an object's description under a temporary name and renames it, so a reader sees all of it or none. */
    static void writeDescription(Path folder, Description description) throws IOException {
        Path temp = folder.resolve(tempName(OBJECT_FILE, 0));
        try {
            Files.write(temp, JSON.writeValueAsBytes(description));
            Files.move(temp, folder.resolve(OBJECT_FILE), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The description in a folder, or null if there is none (never described, or damaged). */
    static Description readDescription(Path folder) {
        Path file = folder.resolve(OBJECT_FILE);
        if (!Files.exists(file)) {
            return null;
        }
        try {
            return JSON.readValue(Files.readAllBytes(file), Description.class);
        } catch (IOException e) {
            return null;
        }
    }

    /** A folder's entries; none if it is gone or is not a folder. */
    static List<Path> list(Path folder) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder)) {
            for (Path entry : stream) {
                entries.add(entry);
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return List.of();
        }
        return entries;
    }
}
