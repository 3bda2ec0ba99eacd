package ferry.checksum;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Computes the CRC32C (always) and MD5 (on request) of the bytes read through it, so that data is checked while
 * it streams rather than by a second read.
 */
public final class ChecksumInputStream extends FilterInputStream {
    private final CRC32C crc = new CRC32C();
    private final MessageDigest md5;
    private long count;

    public ChecksumInputStream(InputStream in, boolean md5) {
        super(in);
        this.md5 = md5 ? Digests.md5() : null;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            crc.update(b);
            if (md5 != null) {
                md5.update((byte) b);
            }
            count++;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            crc.update(b, off, n);
            if (md5 != null) {
                md5.update(b, off, n);
            }
            count += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes would be missing from the checksums: read them instead.
        byte[] buffer = new byte[(int) Math.min(n, 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Bytes read so far. */
    public long count() {
        return count;
    }

    /** The CRC32C of the bytes read so far. */
    public String crc32c() {
        return Crc32c.hex(crc.getValue());
    }

    /** The MD5 of the bytes read so far, in hex; only when requested at construction. */
    public String md5() {
        if (md5 == null) {
            throw new IllegalStateException("MD5 was not requested");
        }
        try {
            return HexFormat.of().formatHex(((MessageDigest) md5.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }
}
