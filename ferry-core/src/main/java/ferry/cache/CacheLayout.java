package ferry.cache;

import com.fasterxml.jackson.databind.ObjectMapper;
import ferry.checksum.Digests;
import ferry.store.local.FileErrors;
import ferry.store.local.LocalStore;
import ferry.store.local.WriterMark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where the cache keeps what (see {@link ChunkCache}), and the file operations that only depend on names. */
final class CacheLayout {
    static final String CHUNKS = "chunks";
    static final String LEDGER = "ledger";
    static final String BUDGET = "budget";
    static final String TEMP_SUFFIX = LocalStore.TEMP_SUFFIX;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(Digests::sha256);

    /** Where a file system does not say its block size: the common one. */
    static final long DEFAULT_BLOCK_BYTES = 4096;

    final Path dir;
    final Path chunks;
    /** The unit the file system allocates files in: a chunk file takes its size rounded up to it. */
    final long blockBytes;
    /** The 256 fan-out folders, made once: every chunk in memory names one, so they are shared, not one per chunk. */
    private final Path[] fans = new Path[256];

    private CacheLayout(Path dir, long blockBytes) {
        this.dir = dir;
        this.chunks = dir.resolve(CHUNKS);
        this.blockBytes = blockBytes;
        for (int i = 0; i < fans.length; i++) {
            fans[i] = chunks.resolve(String.format("%02x", i));
        }
    }

    /** Creates the cache folder if needed, with messages that say what is wrong with a path that cannot be one. */
    static CacheLayout create(Path dir) throws IOException {
        return new CacheLayout(dir, blockBytes(createFolders(dir)));
    }

    /** As {@link #create(Path)}, counting disk space in blocks of the given size: 1 counts file sizes, for tests. */
    static CacheLayout create(Path dir, long blockBytes) throws IOException {
        createFolders(dir);
        return new CacheLayout(dir, blockBytes);
    }

    /** Makes the cache's folders and returns its chunk folder. */
    private static Path createFolders(Path dir) throws IOException {
        requireCacheOrEmpty(dir);
        Path chunks = dir.resolve(CHUNKS);
        try {
            Files.createDirectories(chunks);
        } catch (IOException e) {
            requireNoFileInTheWay(dir, chunks);
            if (e instanceof AccessDeniedException denied) {
                throw new AccessDeniedException(dir.toString(), null, "cannot create cache folder " + dir
                        + ": permission denied on " + denied.getFile() + "; choose a folder you can write to");
            }
            throw new IOException("cannot create cache folder " + dir + ": " + FileErrors.reason(e)
                    + "; choose another cache folder", e);
        }
        if (!Files.isWritable(chunks)) {
            throw new AccessDeniedException(dir.toString(), null, "cache folder " + dir
                    + " is not writable; fix its owner and mode or choose another cache folder");
        }
        return chunks;
    }

    /**
     * Refuses a folder that holds files but is not a cache, before anything is written into it: a mistyped
     * {@code --cache-dir} must not fill a data folder with a ledger and chunks, nor have {@code ferry cache clear}
     * take it for an empty cache. A cache has its ledger or its chunk folder; {@code lost+found} alone is a new disk.
     */
    static void requireCacheOrEmpty(Path dir) throws IOException {
        if (!Files.isDirectory(dir) || Files.isRegularFile(dir.resolve(LEDGER))
                || Files.isDirectory(dir.resolve(CHUNKS))) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                if (!entry.getFileName().toString().equals("lost+found")) {
                    throw new IllegalArgumentException("cache folder " + dir + " is not a Ferry cache: it holds other"
                            + " files (such as " + entry.getFileName() + ") but no " + LEDGER + " file and no " + CHUNKS
                            + " folder; nothing was written into it: choose an empty or new folder for --cache-dir");
                }
            }
        } catch (AccessDeniedException e) {
            // Not readable: creating the chunk folder fails next, with a message that says so.
        }
    }

    private static long blockBytes(Path folder) {
        try {
            long block = Files.getFileStore(folder).getBlockSize();
            return block > 0 ? block : DEFAULT_BLOCK_BYTES;
        } catch (IOException | UnsupportedOperationException e) {
            return DEFAULT_BLOCK_BYTES;
        }
    }

    /**
     * The disk space a file of this size takes, which is what the budget counts: an 8 KiB object's chunk file (its
     * bytes, description and trailer) takes three blocks of 4 KiB, half as much again as its size.
     */
    long footprint(long fileBytes) {
        return Math.ceilDiv(fileBytes, blockBytes) * blockBytes;
    }

    /** Refuses a file that stands where the cache folder {@code dir}, or a folder on the way to {@code path}, goes. */
    static void requireNoFileInTheWay(Path dir, Path path) {
        Path file = FileErrors.fileInTheWay(path);
        if (file != null) { // the folder given is wrong, as one holding other files is
            throw new IllegalArgumentException((file.equals(dir) ? "cache folder " + dir
                    : "cannot create cache folder " + dir + ": " + file) + " is a file, not a folder; remove it or "
                    + "choose another cache folder");
        }
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

    /** Where the chunks of one object live: {@code chunks/<first 2 hex digits>/<SHA-256 hex of objectId>.<index>}. */
    record Stem(Path fan, String hash) {
        Path chunk(long index) {
            return fan.resolve(hash + "." + index);
        }

        Path temp(long index, long bytes) {
            return fan.resolve(tempName(hash + "." + index, bytes));
        }
    }

    /** The fan-out by the hash's first two digits keeps each folder to a 256th of the chunks. */
    Stem stemOf(String objectId) {
        MessageDigest digest = SHA_256.get();
        String hash = HexFormat.of().formatHex(digest.digest(objectId.getBytes(StandardCharsets.UTF_8)));
        return new Stem(fans[Integer.parseInt(hash, 0, 2, 16)], hash);
    }

    /**
     * Chunk files are named {@code <64 hex digits>.<index in decimal>} and nothing else, so no other file is taken
     * for one.
     */
    static boolean isChunkName(String name) {
        int dot = HASH_DIGITS;
        int digits = name.length() - dot - 1;
        if (digits < 1 || digits > 19 || name.charAt(dot) != '.' || !isHash(name.substring(0, dot))
                || (digits > 1 && name.charAt(dot + 1) == '0')) {
            return false;
        }
        for (int i = dot + 1; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static final int HASH_DIGITS = 64;

    private static boolean isHash(String name) {
        if (name.length() != HASH_DIGITS) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
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
            // final name (which may hold dots), pid[@host], random, bytes
            String[] parts = name.substring(1, name.length() - TEMP_SUFFIX.length()).split("\\.");
            if (parts.length < 4) {
                return null;
            }
            int last = parts.length - 1;
            try {
                return new Temp(String.join(".", Arrays.asList(parts).subList(0, last - 2)), parts[last - 2],
                        parts[last - 1], Long.parseLong(parts[last]));
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
    }

    /** A chunk file found on disk, with the space it takes ({@link #footprint}). */
    record ChunkFile(Path path, long footprint, long modifiedNanos) {
        /** The SHA-256 hex of the object id, which the chunks of one object share. */
        String hash() {
            return path.getFileName().toString().substring(0, HASH_DIGITS);
        }
    }

    /** Every chunk file, and the space of chunks that live processes are writing. */
    record Scan(List<ChunkFile> chunks, long pendingFootprint) {
        /** What the folder holds against the budget: chunk files, and chunks being written at their final size. */
        long footprint() {
            long sum = pendingFootprint;
            for (ChunkFile chunk : chunks) {
                sum += chunk.footprint();
            }
            return sum;
        }
    }

    /**
     * Lists every chunk file. Files may vanish while it runs (other processes evict), which only leaves them out. With
     * {@code deleteAbandoned}, temporary files whose writer is gone are deleted on the way, and so are the per-object
     * folders of the layout before this one (whose chunks this version does not read).
     */
    Scan scan(boolean deleteAbandoned) throws IOException {
        List<ChunkFile> found = new ArrayList<>();
        long pending = 0;
        for (Path fan : list(chunks)) {
            for (Path file : list(fan)) {
                String name = file.getFileName().toString();
                if (isChunkName(name)) {
                    ChunkFile chunk = chunkFile(file);
                    if (chunk != null) {
                        found.add(chunk);
                    }
                    continue;
                }
                Temp temp = Temp.parse(name);
                if (temp != null) {
                    if (temp.writerAlive(file)) {
                        pending += footprint(temp.bytes());
                    } else if (deleteAbandoned) {
                        Files.deleteIfExists(file);
                    }
                } else if (deleteAbandoned && isHash(name) && Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                    deleteTree(file);
                }
            }
        }
        return new Scan(found, pending);
    }

    private ChunkFile chunkFile(Path file) throws IOException {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            return attributes.isRegularFile() ? new ChunkFile(file, footprint(attributes.size()),
                    attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS)) : null;
        } catch (NoSuchFileException e) {
            return null; // Evicted by another process since the listing.
        }
    }

    /**
     * Deletes an object's chunks, and its temporary files whose writer is gone; returns the space freed. A chunk
     * a live process is still writing stays.
     */
    long deleteObject(Stem stem) throws IOException {
        long freed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(stem.fan(), "*" + stem.hash() + ".*")) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                Temp temp;
                if (isChunkName(name) && name.startsWith(stem.hash())) {
                    ChunkFile chunk = chunkFile(file);
                    freed += chunk != null && Files.deleteIfExists(file) ? chunk.footprint() : 0;
                } else if ((temp = Temp.parse(name)) != null && temp.finalName().startsWith(stem.hash() + ".")
                        && !temp.writerAlive(file)) {
                    Files.deleteIfExists(file);
                }
            }
        } catch (NoSuchFileException e) {
            return 0; // Nothing was ever stored under this fan.
        }
        return freed;
    }

    /** A folder of the layout before this one, with everything in it. */
    private static void deleteTree(Path folder) throws IOException {
        for (Path file : list(folder)) {
            Files.deleteIfExists(file);
        }
        try {
            Files.deleteIfExists(folder);
        } catch (DirectoryNotEmptyException e) {
            // Something not ours, or a file an old process is writing; leave the folder.
        }
    }

    /** What {@link ChunkCache#describe} records about an object, as JSON in each of its chunk files. */
    record Description(String objectId, String location, long size) {
        byte[] json() {
            try {
                return JSON.writeValueAsBytes(this);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // A record of strings and a number always serializes.
            }
        }
    }

    /** The description a chunk file carries, or null if it has none (never described, damaged, or gone). */
    static Description readDescription(Path chunkFile) {
        byte[] json = ChunkFormat.description(chunkFile);
        if (json == null) {
            return null;
        }
        try {
            return JSON.readValue(json, Description.class);
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
