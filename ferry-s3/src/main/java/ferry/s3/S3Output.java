package ferry.s3;

import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectInfo;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.net.http.HttpHeaders;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * The bytes of a new S3 object, buffered in memory while their CRC32C is computed.
 *
 * <p>Up to one part size, the object is sent at commit as one PutObject carrying its CRC32C as metadata. Past that, a
 * multipart upload starts when the first part fills; parts are uploaded in the background, at most
 * {@link S3Config#partsInFlight()} at once (a writer waits for a free slot), so memory stays near
 * {@code (partsInFlight + 1) * partSize}. Commit uploads the last part and completes the upload; close without commit
 * aborts it, after the parts in flight have settled, so no upload is left behind.
 *
 * <p>Not thread-safe, like any {@link java.io.OutputStream}.
 */
final class S3Output extends ObjectOutput {
    private static final int FIRST_BUFFER = 64 * 1024;
    /** S3 numbers parts 1 to 10,000; the part size doubles every this many parts, so no object runs out. */
    private static final int PARTS_PER_SIZE = 1_000;

    private enum State { OPEN, COMMITTED, ABANDONED }

    private final S3Store store;
    private final Location location;
    private final WriteOptions options;
    private final boolean exclusive;
    private final int basePartSize;
    private final CRC32C crc = new CRC32C();
    /**
     * Marks the object as this output's, in its metadata: when the answer to a write is lost and the retry is told
     * that the object exists (412) or the upload is gone (404), the object itself tells whether the first try won.
     */
    private final String writeId = UUID.randomUUID().toString();
    private State state = State.OPEN;
    private byte[] buffer;
    private int count;
    private long size;

    private String uploadId;
    private java.nio.file.Path journalEntry;
    private boolean uploadCompleted;
    private int nextPartNumber = 1;
    private final Semaphore slots;
    private final List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
    private final ConcurrentLinkedQueue<byte[]> spareBuffers = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Throwable> partFailure = new AtomicReference<>();

    S3Output(S3Store store, Location location, WriteOptions options, boolean exclusive) {
        this.store = store;
        this.location = location;
        this.options = options;
        this.exclusive = exclusive;
        int configured = store.config().partSize();
        // With a known size, pick a part size that fits the object in 9,000 parts, so that all parts are alike.
        long fitting = options.sizeHint() > 0 ? ceilMiB(options.sizeHint() / 9_000 + 1) : 0;
        this.basePartSize = (int) Math.min(S3Config.MAX_PART_SIZE, Math.max(configured, fitting));
        this.slots = new Semaphore(store.config().partsInFlight());
    }

    private static long ceilMiB(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20 << 20;
    }

    /** The size of part {@code number}; also the most a single PutObject carries, for part 1. */
    private int partSize(int number) {
        int doublings = Math.min((number - 1) / PARTS_PER_SIZE, 30);
        return (int) Math.min(S3Config.MAX_PART_SIZE, (long) basePartSize << doublings);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        requireOpen();
        throwIfPartFailed();
        crc.update(bytes, offset, length);
        size += length;
        while (length > 0) {
            int limit = partSize(nextPartNumber);
            if (count == limit) {
                // The part is full and more bytes follow: this object needs a multipart upload.
                sendPart();
                limit = partSize(nextPartNumber);
            }
            ensureCapacity((int) Math.min(limit, (long) count + length), limit);
            int n = Math.min(length, buffer.length - count);
            System.arraycopy(bytes, offset, buffer, count, n);
            count += n;
            offset += n;
            length -= n;
        }
    }

    /** Grows the buffer to hold at least {@code needed} bytes, never beyond {@code limit}. */
    private void ensureCapacity(int needed, int limit) {
        if (buffer != null && buffer.length >= needed) {
            return;
        }
        if (uploadId != null) {
            byte[] spare = spareBuffers.poll();
            buffer = spare != null && spare.length == limit ? spare : new byte[limit];
            return;
        }
        // Before a multipart upload starts, grow by doubling from a small start (or the announced size), so that
        // many small objects written at once do not each hold a whole part.
        long hint = options.sizeHint() > 0 ? options.sizeHint() : FIRST_BUFFER;
        long capacity = buffer == null ? hint : (long) buffer.length * 2;
        capacity = Math.min(limit, Math.max(capacity, needed));
        byte[] grown = new byte[(int) capacity];
        if (buffer != null) {
            System.arraycopy(buffer, 0, grown, 0, count);
        }
        buffer = grown;
    }

    /** Sends the full buffer as the next part, in the background, once a slot is free. */
    private void sendPart() throws IOException {
        if (uploadId == null) {
            startUpload();
        }
        acquire(slots);
        byte[] part = buffer;
        int length = count;
        int number = nextPartNumber++;
        buffer = null;
        count = 0;
        CompletableFuture<CompletedPart> upload;
        try {
            // The unsafe body does not copy: the buffer is left alone until the upload, retries included, is done.
            upload = client().uploadPart(
                            b -> b.bucket(location.bucket())
                                    .key(location.path())
                                    .uploadId(uploadId)
                                    .partNumber(number)
                                    .contentLength((long) length),
                            AsyncRequestBody.fromByteBufferUnsafe(ByteBuffer.wrap(part, 0, length)))
                    .thenApply(r -> CompletedPart.builder().partNumber(number).eTag(r.eTag()).build());
        } catch (RuntimeException e) {
            slots.release();
            throw store.errors().map(e, location, "write");
        }
        upload.whenComplete((done, failure) -> {
            if (failure != null) {
                partFailure.compareAndSet(null, failure);
            } else {
                spareBuffers.offer(part);
            }
            slots.release();
        });
        parts.add(upload);
    }

    private void startUpload() throws IOException {
        Map<String, String> metadata = metadata(options.crc32c());
        uploadId = store.await(client().createMultipartUpload(
                        b -> b.bucket(location.bucket()).key(location.path()).metadata(metadata)),
                location, "write").uploadId();
        journalEntry = record(uploadId);
    }

    /** Records a multipart upload in the store's journal, if it keeps one; returns the entry, or null. */
    private java.nio.file.Path record(String id) throws IOException {
        return store.uploads() == null ? null : store.uploads().record(location.bucket(), location.path(), id);
    }

    /** Forgets the journal entry of an upload that completed or was aborted. */
    private void forgetUpload() throws IOException {
        if (journalEntry != null) {
            store.uploads().forget(journalEntry);
            journalEntry = null;
        }
    }

    /** The SDK's client, made on first use: a small object written whole may never need it. */
    private S3AsyncClient client() {
        return store.client();
    }

    /** This output's metadata: its write id and, when known, the CRC32C. */
    private Map<String, String> metadata(String crc32c) {
        return crc32c == null
                ? Map.of(S3Store.WRITE_ID_METADATA, writeId)
                : Map.of(S3Store.WRITE_ID_METADATA, writeId, S3Store.CRC32C_METADATA, crc32c);
    }

    /**
     * The object at the location, if it is the one this output wrote (its write id and size), else null. Used after a
     * failed write, so its own failures count as "not ours".
     */
    private HeadObjectResponse ownObject() {
        try {
            HeadObjectResponse head = client().headObject(b -> b.bucket(location.bucket()).key(location.path())).get();
            boolean ours = writeId.equals(S3Store.metadataValue(head.metadata(), S3Store.WRITE_ID_METADATA))
                    && head.contentLength() != null
                    && head.contentLength() == size;
            return ours ? head : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            return null;
        }
    }

    private void throwIfPartFailed() throws IOException {
        Throwable failure = partFailure.get();
        if (failure != null) {
            throw store.errors().map(failure, location, "write");
        }
    }

    private void requireOpen() throws IOException {
        if (state != State.OPEN) {
            throw new IOException("output for " + location + " is already "
                    + (state == State.COMMITTED ? "committed" : "closed"));
        }
    }

    @Override
    public ObjectInfo commit() throws IOException {
        requireOpen();
        String actual = Crc32c.hex(crc.getValue());
        try {
            ObjectInfo info = uploadId == null ? putWhole(actual) : completeUpload(actual);
            state = State.COMMITTED;
            buffer = null;
            spareBuffers.clear();
            return info;
        } catch (IOException | RuntimeException | Error e) {
            try {
                abandon();
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private void checkAnnounced(String actual) throws ChecksumMismatchException {
        if (options.crc32c() != null && !options.crc32c().equals(actual)) {
            throw new ChecksumMismatchException(location, "CRC32C", options.crc32c(), actual);
        }
    }

    private ObjectInfo putWhole(String actual) throws IOException {
        checkAnnounced(actual);
        byte[] bytes = buffer == null ? new byte[0] : buffer;
        // Only an exclusive create needs its write id, to recognize its own object after a lost answer; leaving it
        // out elsewhere spares the server a metadata entry.
        Map<String, String> metadata = exclusive ? metadata(actual) : Map.of(S3Store.CRC32C_METADATA, actual);
        if (store.http() != null) {
            try {
                HttpHeaders put = store.http().put(location, bytes, count, metadata, exclusive);
                return new ObjectInfo(location, count, S3Store.lastModified(null, put.firstValue("Date").orElse(null)),
                        S3Store.etag(put.firstValue("ETag").orElse(null)), actual);
            } catch (IOException | RuntimeException e) {
                IOException failure = store.errors().map(e, location, "write");
                if (failure instanceof ObjectExistsException refused) {
                    return ownWhole(actual, refused);
                }
                throw failure;
            }
        }
        PutObjectResponse response;
        try {
            response = store.await(client().putObject(
                            b -> b.bucket(location.bucket())
                                    .key(location.path())
                                    .contentLength((long) count)
                                    .metadata(metadata)
                                    .ifNoneMatch(exclusive ? "*" : null),
                            AsyncRequestBody.fromByteBufferUnsafe(ByteBuffer.wrap(bytes, 0, count))),
                    location, "write");
        } catch (ObjectExistsException e) {
            return ownWhole(actual, e);
        }
        return new ObjectInfo(location, count, S3Store.lastModified(null, response), S3Store.etag(response.eTag()),
                actual);
    }

    /** After an exclusive PUT was refused: a retry after a lost answer finds the object the first try wrote. */
    private ObjectInfo ownWhole(String actual, ObjectExistsException refused) throws ObjectExistsException {
        HeadObjectResponse own = ownObject();
        if (own == null) {
            throw refused;
        }
        return new ObjectInfo(location, count, S3Store.lastModified(own.lastModified(), own), S3Store.etag(own.eTag()),
                actual);
    }

    private ObjectInfo completeUpload(String actual) throws IOException {
        sendPart();
        List<CompletedPart> completed = new ArrayList<>(parts.size());
        for (CompletableFuture<CompletedPart> part : parts) {
            completed.add(store.await(part, location, "write"));
        }
        checkAnnounced(actual);
        // The SDK's S3 protocol turns a 200 answer whose body is an <Error> into an exception; an answer without an
        // ETag is not taken as success either.
        String etag;
        Instant lastModified;
        try {
            CompleteMultipartUploadResponse response = store.await(client().completeMultipartUpload(
                            b -> b.bucket(location.bucket())
                                    .key(location.path())
                                    .uploadId(uploadId)
                                    .multipartUpload(u -> u.parts(completed))
                                    .ifNoneMatch(exclusive ? "*" : null)),
                    location, "write");
            if (response.eTag() == null || response.eTag().isEmpty()) {
                throw new StoreException(location, "S3 endpoint " + store.config().endpointText()
                        + " answered CompleteMultipartUpload for " + location + " without an ETag, so the upload is"
                        + " not known to be complete: write the object again");
            }
            etag = S3Store.etag(response.eTag());
            lastModified = S3Store.lastModified(null, response);
        } catch (StoreException e) {
            // A retry after a lost answer is told the object exists (412) or the upload is gone (404), and an
            // error may come after the upload completed: the object says whether it is the one written here.
            HeadObjectResponse own = ownObject();
            if (own == null) {
                throw e;
            }
            etag = S3Store.etag(own.eTag());
            lastModified = S3Store.lastModified(own.lastModified(), own);
        }
        uploadCompleted = true;
        forgetUpload();
        if (options.crc32c() == null) {
            // The CRC32C is known only now that every byte is written, but S3 takes metadata only when an upload
            // starts: record it by copying the object onto itself with new metadata. The copy is conditional on
            // the ETag, so that it never stamps this checksum on another writer's bytes.
            ObjectInfo stamped = recordChecksum(actual, etag);
            if (stamped != null) {
                return stamped;
            }
        }
        return describeCompleted(actual, etag, lastModified);
    }

    /**
     * What a completed upload stored. Some servers (s3proxy's file system backends) answer CompleteMultipartUpload
     * with another ETag than the object then has, and a cache keyed by ETag needs the one stat reports: ask.
     */
    private ObjectInfo describeCompleted(String actual, String etag, Instant lastModified) throws IOException {
        HeadObjectResponse head = store.await(
                client().headObject(b -> b.bucket(location.bucket()).key(location.path())), location, "stat");
        if (head.contentLength() != null && head.contentLength() == size) {
            return new ObjectInfo(location, size, S3Store.lastModified(head.lastModified(), head),
                    S3Store.etag(head.eTag()), actual);
        }
        return new ObjectInfo(location, size, lastModified, etag, actual); // replaced by another writer since
    }

    /** Sets the CRC32C metadata of the completed object; null if another writer replaced it meanwhile. */
    private ObjectInfo recordChecksum(String actual, String etag) throws IOException {
        Map<String, String> metadata = metadata(actual);
        try {
            try {
                return copyOntoItself(actual, etag, metadata);
            } catch (ExecutionException e) {
                if (!S3Errors.hasStatus(e.getCause(), 412)) {
                    throw e;
                }
                // Some servers (s3proxy's file system backends) answer CompleteMultipartUpload with one ETag and
                // store the object under another. An object of our size whose ETag is not the one we were told is
                // taken to be ours; one with the ETag we were told failed the condition for another reason.
                HeadObjectResponse head = awaitRaw(
                        client().headObject(b -> b.bucket(location.bucket()).key(location.path())));
                String stored = S3Store.etag(head.eTag());
                if (stored.equals(etag) || head.contentLength() == null || head.contentLength() != size) {
                    return null;
                }
                return copyOntoItself(actual, stored, metadata);
            }
        } catch (ExecutionException e) {
            if (S3Errors.hasStatus(e.getCause(), 412) || S3Errors.hasStatus(e.getCause(), 404)) {
                return null;
            }
            IOException failure = store.errors().map(e.getCause(), location, "write");
            throw new StoreException(location, "wrote " + location + " but could not record its CRC32C " + actual
                    + " in its metadata: " + failure.getMessage(), failure);
        }
    }

    /** Copies the object onto itself with new metadata, if its ETag is still {@code etag}. */
    private ObjectInfo copyOntoItself(String actual, String etag, Map<String, String> metadata)
            throws IOException, ExecutionException {
        if (size > store.singleCopyLimit()) {
            return copyInParts(actual, etag, metadata);
        }
        CopyObjectResponse copy = awaitRaw(client().copyObject(b -> b.sourceBucket(location.bucket())
                .sourceKey(location.path())
                .destinationBucket(location.bucket())
                .destinationKey(location.path())
                .copySourceIfMatch("\"" + etag + "\"")
                .metadataDirective(MetadataDirective.REPLACE)
                .metadata(metadata)));
        return new ObjectInfo(location, size, S3Store.lastModified(copy.copyObjectResult().lastModified(), copy),
                S3Store.etag(copy.copyObjectResult().eTag()), actual);
    }

    /** CopyObject stops at 5 GiB; larger objects are copied onto themselves with UploadPartCopy. */
    private ObjectInfo copyInParts(String actual, String etag, Map<String, String> metadata)
            throws IOException, ExecutionException {
        long partSize = Math.min(store.singleCopyLimit(), Math.max(512L << 20, (size + 9_999) / 10_000));
        String copyId = awaitRaw(client().createMultipartUpload(
                        b -> b.bucket(location.bucket()).key(location.path()).metadata(metadata)))
                .uploadId();
        // Journaled as the upload itself is: a copy of a large object takes minutes, and a crash must not leak it.
        java.nio.file.Path copyEntry = null;
        try {
            copyEntry = record(copyId);
        } catch (IOException e) {
            // unrecorded: aborted below if this process lives to see the copy fail
        }
        boolean done = false;
        List<CompletableFuture<CompletedPart>> copies = new ArrayList<>();
        Semaphore copySlots = new Semaphore(store.config().partsInFlight());
        try {
            int number = 1;
            for (long start = 0; start < size; start += partSize, number++) {
                String range = "bytes=" + start + "-" + (Math.min(size, start + partSize) - 1);
                int partNumber = number;
                acquire(copySlots);
                CompletableFuture<CompletedPart> copy = client().uploadPartCopy(b -> b.sourceBucket(location.bucket())
                                .sourceKey(location.path())
                                .copySourceIfMatch("\"" + etag + "\"")
                                .copySourceRange(range)
                                .destinationBucket(location.bucket())
                                .destinationKey(location.path())
                                .uploadId(copyId)
                                .partNumber(partNumber))
                        .thenApply(r -> CompletedPart.builder()
                                .partNumber(partNumber)
                                .eTag(r.copyPartResult().eTag())
                                .build());
                copy.whenComplete((r, failure) -> copySlots.release());
                copies.add(copy);
            }
            List<CompletedPart> completed = new ArrayList<>(copies.size());
            for (CompletableFuture<CompletedPart> copy : copies) {
                completed.add(awaitRaw(copy));
            }
            CompleteMultipartUploadResponse response = awaitRaw(client().completeMultipartUpload(b -> b.bucket(
                            location.bucket())
                    .key(location.path())
                    .uploadId(copyId)
                    .multipartUpload(u -> u.parts(completed))));
            done = true;
            return describeCompleted(actual, S3Store.etag(response.eTag()), S3Store.lastModified(null, response));
        } finally {
            if (!done) {
                for (CompletableFuture<CompletedPart> copy : copies) {
                    copy.handle((r, failure) -> null).join();
                }
                client().abortMultipartUpload(b -> b.bucket(location.bucket()).key(location.path()).uploadId(copyId))
                        .handle((r, failure) -> null)
                        .join();
            }
            if (copyEntry != null) {
                try {
                    store.uploads().forget(copyEntry);
                } catch (IOException e) {
                    // a stale entry: the next store finds the upload gone and drops it
                }
            }
        }
    }

    private void acquire(Semaphore semaphore) throws InterruptedIOException {
        try {
            semaphore.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing " + location);
        }
    }

    private <T> T awaitRaw(CompletableFuture<T> future) throws ExecutionException, InterruptedIOException {
        try {
            return store.waitFor(future);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing " + location);
        }
    }

    /** The multipart upload under way, or null while the object fits one request. */
    String uploadId() {
        return uploadId;
    }

    @Override
    public void close() throws IOException {
        if (state == State.OPEN) {
            abandon();
        }
    }

    private void abandon() throws IOException {
        state = State.ABANDONED;
        buffer = null;
        spareBuffers.clear();
        if (uploadId == null || uploadCompleted) {
            return;
        }
        // A part still in flight could land after the abort and be stored again: let each settle first.
        for (CompletableFuture<CompletedPart> part : parts) {
            part.handle((done, failure) -> null).join();
        }
        try {
            store.await(client().abortMultipartUpload(
                            b -> b.bucket(location.bucket()).key(location.path()).uploadId(uploadId)),
                    location, "abort the upload of");
            forgetUpload();
        } catch (ObjectNotFoundException e) {
            forgetUpload();
            return; // the bucket is gone, and the upload with it
        } catch (StoreException e) {
            if (e.getCause() != null && S3Errors.hasStatus(e.getCause(), 404)) {
                forgetUpload();
                return; // the upload is already gone
            }
            throw new StoreException(location, "could not abort the multipart upload " + uploadId + " of " + location
                    + " (" + e.getMessage() + "): it keeps its parts' storage until aborted, for example with"
                    + " 'aws s3api abort-multipart-upload' or a lifecycle rule with AbortIncompleteMultipartUpload", e);
        }
    }
}
