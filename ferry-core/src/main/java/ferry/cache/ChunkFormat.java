package ferry.cache;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A chunk file is the chunk's bytes, then its object's description (UTF-8 JSON, possibly empty), then a 24-byte
 * trailer: the data length (int), the data's CRC32C (int), the description's length (int) and CRC32C (int), and a
 * magic number (long), big-endian. A trailer rather than a header keeps a chunk's offsets equal to file positions,
 * and the lengths in it tell a truncated file from a whole one. Every chunk carries the description, so the cache
 * needs no other file per object and any chunk left after evictions still says whose it is.
 */
final class ChunkFormat {
    static final int TRAILER_BYTES = 24;
    /** "FERRYCK2": says the trailer was written by this format, so a file without one is not read as a chunk. */
    static final long MAGIC = 0x46455252_59434B32L;
    /** Verification reads through a buffer of this size, so a chunk of any length needs no larger allocation. */
    static final int VERIFY_BUFFER_BYTES = 256 * 1024;
    /** A longer description is not stored (a chunk then says nothing of its object). */
    static final int MAX_DESCRIPTION_BYTES = 64 * 1024;

    private ChunkFormat() {}

    /** The description and trailer that follow a chunk's bytes. */
    static ByteBuffer tail(int length, int crc32c, byte[] description) {
        CRC32C crc = new CRC32C();
        crc.update(description);
        return ByteBuffer.allocate(description.length + TRAILER_BYTES).put(description).putInt(length).putInt(crc32c)
                .putInt(description.length).putInt((int) crc.getValue()).putLong(MAGIC).flip();
    }

    /**
     * The description stored in a chunk file, or null if the file has none or is not a whole chunk (damaged, being
     * replaced, or gone). Reads only the file's end.
     */
    static byte[] description(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < TRAILER_BYTES) {
                return null;
            }
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES);
            readFully(channel, trailer, size - TRAILER_BYTES);
            trailer.flip();
            int length = trailer.getInt();
            trailer.getInt();
            int descriptionLength = trailer.getInt();
            int descriptionCrc = trailer.getInt();
            if (trailer.getLong() != MAGIC || descriptionLength <= 0 || descriptionLength > MAX_DESCRIPTION_BYTES
                    || (long) length + descriptionLength + TRAILER_BYTES != size) {
                return null;
            }
            ByteBuffer description = ByteBuffer.allocate(descriptionLength);
            readFully(channel, description, length);
            CRC32C crc = new CRC32C();
            crc.update(description.array());
            return (int) crc.getValue() == descriptionCrc ? description.array() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Reusable per-thread state for {@link #verify}: a first read of many chunks allocates nothing per chunk. */
    static final class Verifier {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(VERIFY_BUFFER_BYTES);
        final CRC32C crc = new CRC32C();
    }

    /** What a check of a chunk file found: its data length and the CRC32C of its data. */
    record Checked(int length, int crc32c) {}

    /**
     * Checks a whole chunk file against its trailer.
     *
     * @throws CorruptChunkException saying what is wrong, if the file is not a whole, intact chunk
     */
    static Checked verify(FileChannel channel, Verifier verifier) throws IOException, CorruptChunkException {
        try {
            return check(channel, verifier);
        } catch (EOFException e) {
            throw new CorruptChunkException("shrank while being checked (truncated)");
        }
    }

    private static Checked check(FileChannel channel, Verifier verifier) throws IOException, CorruptChunkException {
        long size = channel.size();
        if (size < TRAILER_BYTES) {
            throw new CorruptChunkException("is " + size + " bytes, shorter than its " + TRAILER_BYTES
                    + "-byte trailer (truncated)");
        }
        ByteBuffer buffer = verifier.buffer;
        buffer.clear().limit(TRAILER_BYTES);
        readFully(channel, buffer, size - TRAILER_BYTES);
        buffer.flip();
        int length = buffer.getInt();
        int stored = buffer.getInt();
        int descriptionLength = buffer.getInt();
        buffer.getInt();
        if (buffer.getLong() != MAGIC) {
            throw new CorruptChunkException("has no chunk trailer (truncated, or not written by Ferry)");
        }
        long recorded = (long) length + descriptionLength + TRAILER_BYTES;
        if (length < 0 || descriptionLength < 0 || recorded != size) {
            throw new CorruptChunkException("is " + size + " bytes but its trailer records " + recorded
                    + " (truncated)");
        }
        CRC32C crc = verifier.crc;
        crc.reset();
        long position = 0;
        while (position < length) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), length - position));
            readFully(channel, buffer, position);
            buffer.flip();
            position += buffer.remaining();
            crc.update(buffer);
        }
        int actual = (int) crc.getValue();
        if (actual != stored) {
            throw new CorruptChunkException("fails its CRC32C check (stored " + Integer.toHexString(stored)
                    + ", computed " + Integer.toHexString(actual) + ")");
        }
        return new Checked(length, actual);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position);
            if (read < 0) {
                throw new EOFException("file ended at byte " + position + " while checking a cache chunk");
            }
            position += read;
        }
    }

    /** A chunk file that is not whole and intact; the message says how, to follow the file's name. */
    static final class CorruptChunkException extends Exception {
        CorruptChunkException(String reason) {
            super(reason, null, false, false);
        }
    }
}
