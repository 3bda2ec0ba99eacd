package ferry.cache;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * A chunk file is the chunk's bytes followed by a 16-byte trailer: the data length (int), its CRC32C (int) and a magic
 * number (long), big-endian. A trailer rather than a header keeps a chunk's offsets equal to file positions, and the
 * length in it tells a truncated file from a whole one.
 */
final class ChunkFormat {
    static final int TRAILER_BYTES = 16;
    /** "FERRYCK1": says the trailer was written by this format, so a file without one is not read as a chunk. */
    static final long MAGIC = 0x46455252_59434B31L;
    /** Verification reads through a buffer of this size, so a chunk of any length needs no larger allocation. */
    static final int VERIFY_BUFFER_BYTES = 256 * 1024;

    private ChunkFormat() {}

    static ByteBuffer trailer(int length, int crc32c) {
        return ByteBuffer.allocate(TRAILER_BYTES).putInt(length).putInt(crc32c).putLong(MAGIC).flip();
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
        if (buffer.getLong() != MAGIC) {
            throw new CorruptChunkException("has no chunk trailer (truncated, or not written by Ferry)");
        }
        if (length < 0 || length != size - TRAILER_BYTES) {
            throw new CorruptChunkException("holds " + (size - TRAILER_BYTES) + " data bytes but its trailer records "
                    + length + " (truncated)");
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
