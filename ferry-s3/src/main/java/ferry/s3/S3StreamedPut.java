package ferry.s3;

import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectOutput;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.zip.CRC32C;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.BlockingOutputStreamAsyncRequestBody;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.utils.CancellableOutputStream;

/**
 * A large object of known size and CRC32C sent as one PutObject whose body streams as it is written: no buffering,
 * and no multipart upload, which many S3-compatible servers complete by copying every part again.
 *
 * <p>The last bytes are held back until {@link #commit()} has checked the size and the CRC32C: the server cannot
 * store an object before its last byte arrives, so bytes that do not match what was announced are never stored
 * (the request is cancelled instead). A streamed body cannot be sent twice, so a failed request is not retried
 * here; the caller sees the error and may write the object again.
 */
final class S3StreamedPut extends ObjectOutput {
    /** The most bytes held back for the check at commit. */
    private static final int TAIL = 64 * 1024;
    private static final Duration STREAMED_ATTEMPT_TIMEOUT = Duration.ofDays(7);

    private final S3Store store;
    private final Location location;
    private final WriteOptions options;
    private final long expectedSize;
    private final long tailStart;
    private final byte[] tail;
    private final CRC32C crc = new CRC32C();
    private final CompletableFuture<PutObjectResponse> response;
    private final CancellableOutputStream body;
    private long size;
    private boolean done;

    S3StreamedPut(S3Store store, Location location, WriteOptions options, boolean exclusive) {
        this.store = store;
        this.location = location;
        this.options = Objects.requireNonNull(options, "options is null");
        this.expectedSize = options.sizeHint();
        this.tailStart = Math.max(0, expectedSize - TAIL);
        this.tail = new byte[(int) (expectedSize - tailStart)];
        BlockingOutputStreamAsyncRequestBody request = AsyncRequestBody.forBlockingOutputStream(expectedSize);
        Map<String, String> metadata = Map.of(S3Store.CRC32C_METADATA, options.crc32c());
        this.response = store.client().putObject(b -> b.bucket(location.bucket())
                .key(location.path())
                .contentLength(expectedSize)
                .metadata(metadata)
                .ifNoneMatch(exclusive ? "*" : null)
                // The body comes at the writer's pace (a bandwidth limit, a slow source), and a streamed body cannot
                // be sent again: no time limit on the attempt. A connection that stops moving is still dropped (the
                // HTTP client's minimum throughput), and that fails the write.
                .overrideConfiguration(o -> o.apiCallAttemptTimeout(STREAMED_ATTEMPT_TIMEOUT)), request);
        this.body = request.outputStream();
    }

    /** Whether an object can go this way: its size and CRC32C are known up front and it fits one request. */
    static boolean suits(WriteOptions options, long partSize, long limit) {
        return options.crc32c() != null && options.sizeHint() > partSize && options.sizeHint() <= limit;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (done) {
            throw new IOException("output for " + location + " is already closed");
        }
        if (size + length > expectedSize) {
            throw new StoreException(location, "more bytes than the announced " + expectedSize + " for " + location
                    + ": the source changed while it was copied; copy it again");
        }
        crc.update(bytes, offset, length);
        int direct = (int) Math.max(0, Math.min(length, tailStart - size));
        try {
            if (direct > 0) {
                body.write(bytes, offset, direct);
            }
        } catch (IOException | RuntimeException e) {
            throw failure(e);
        }
        if (length > direct) {
            System.arraycopy(bytes, offset + direct, tail, (int) (size + direct - tailStart), length - direct);
        }
        size += length;
    }

    @Override
    public ObjectInfo commit() throws IOException {
        if (done) {
            throw new IOException("output for " + location + " is already closed");
        }
        try {
            if (size != expectedSize) {
                throw new StoreException(location, "the source ended after " + size + " of the announced "
                        + expectedSize + " bytes of " + location + ": it changed while it was copied; copy it again");
            }
            String actual = Crc32c.hex(crc.getValue());
            if (!actual.equals(options.crc32c())) {
                throw new ChecksumMismatchException(location, "CRC32C", options.crc32c(), actual);
            }
            try {
                body.write(tail);
                body.close();
            } catch (IOException | RuntimeException e) {
                throw failure(e);
            }
            PutObjectResponse put = store.await(response, location, "write");
            done = true;
            return new ObjectInfo(location, size, S3Store.lastModified(null, put), S3Store.etag(put.eTag()), actual);
        } finally {
            if (!done) {
                close();
            }
        }
    }

    /** The request's own error, when it failed first; else the stream's. */
    private IOException failure(Exception streamError) throws IOException {
        if (response.isCompletedExceptionally()) {
            try {
                response.get();
            } catch (ExecutionException e) {
                return store.errors().map(e.getCause(), location, "write");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new InterruptedIOException("interrupted while writing " + location);
            }
        }
        return store.errors().map(streamError, location, "write");
    }

    /** Abandons the write: the body is cancelled before its last byte, so the server stores nothing. */
    @Override
    public void close() {
        if (!done) {
            done = true;
            body.cancel();
            response.cancel(true);
        }
    }
}
