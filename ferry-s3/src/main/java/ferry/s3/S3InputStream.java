package ferry.s3;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.StoreException;
import java.io.IOException;
import java.io.InputStream;

/**
 * The body of one GetObject as it arrives. Failures while streaming name the object, and a body that ends before its
 * Content-Length is an error rather than a short read, so a dropped connection never passes for a smaller object.
 */
final class S3InputStream extends ObjectInputStream {
    private final InputStream body;
    private final Runnable abort;
    private final ObjectInfo info;
    private final Location location;
    private final long expected;
    private final S3Errors errors;
    private long received;
    private boolean closed;

    /** @param abort stops the transfer of a body not read to its end, before it is closed */
    S3InputStream(InputStream body, Runnable abort, ObjectInfo info, long expected, S3Errors errors) {
        this.body = body;
        this.abort = abort;
        this.info = info;
        this.location = info.location();
        this.expected = expected;
        this.errors = errors;
    }

    @Override
    public ObjectInfo info() {
        return info;
    }

    /** The bytes this answer carries (its Content-Length), or -1 when the server did not say. */
    long length() {
        return expected;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream of " + location + " is closed");
        }
        if (len == 0) {
            return 0;
        }
        int n;
        try {
            n = body.read(b, off, len);
        } catch (IOException | RuntimeException e) {
            throw errors.map(e, location, "read"); // the caller's interruption is passed on unchanged
        }
        if (n < 0) {
            if (expected >= 0 && received < expected) {
                throw new StoreException(location, "the connection ended after " + received + " of " + expected
                        + " bytes of " + location + ": read it again");
            }
            return -1;
        }
        received += n;
        return n;
    }

    @Override
    public int available() throws IOException {
        return closed ? 0 : body.available();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (expected >= 0 && received < expected) {
            // Stop the transfer rather than drain the rest of a large body.
            abort.run();
        }
        body.close();
    }
}
