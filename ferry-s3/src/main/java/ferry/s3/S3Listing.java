package ferry.s3;

import ferry.store.FolderListing;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * ListObjectsV2, page by page (S3 returns keys in UTF-8 byte order). The next page is requested as soon as one
 * arrives, so the caller rarely waits, and at most two pages are held. The first page is fetched when the listing is
 * made, so that a missing bucket fails there.
 */
final class S3Listing implements ObjectListing {
    private final S3Store store;
    private final Location prefix;
    private final Location bucketRoot;
    private final int pageSize;
    private Iterator<S3Object> page;
    private CompletableFuture<ListObjectsV2Response> nextPage;
    private ObjectInfo next;

    S3Listing(S3Store store, Location prefix) throws IOException {
        this(store, prefix, 1000);
    }

    /** {@code pageSize} keys per request (S3 returns at most 1000); smaller pages let a test cross pages cheaply. */
    S3Listing(S3Store store, Location prefix, int pageSize) throws IOException {
        this.store = store;
        this.prefix = prefix;
        this.pageSize = pageSize;
        this.bucketRoot = Location.of("s3://" + prefix.bucket() + "/");
        accept(store.await(store.client().listObjectsV2(request(null)), prefix, "list"));
    }

    /** One level of a folder: ListObjectsV2 with the delimiter {@code /}, all pages. */
    static FolderListing folder(S3Store store, Location folder) throws IOException {
        Location bucketRoot = Location.of("s3://" + folder.bucket() + "/");
        List<ObjectInfo> objects = new ArrayList<>();
        List<String> folders = new ArrayList<>();
        String token = null;
        do {
            ListObjectsV2Request request = ListObjectsV2Request.builder()
                    .bucket(folder.bucket())
                    .prefix(folder.path())
                    .delimiter("/")
                    .continuationToken(token)
                    .build();
            ListObjectsV2Response response = store.await(store.client().listObjectsV2(request), folder, "list");
            for (S3Object object : response.contents()) {
                String key = object.key();
                if (!key.endsWith("/") && !key.startsWith(ConditionalWrites.PROBE_PREFIX)) {
                    objects.add(info(bucketRoot, object));
                }
            }
            for (CommonPrefix common : response.commonPrefixes()) {
                String name = common.prefix().substring(folder.path().length());
                if (name.length() > 1) { // "/" alone would be an empty folder name
                    folders.add(name.substring(0, name.length() - 1));
                }
            }
            token = Boolean.TRUE.equals(response.isTruncated()) ? response.nextContinuationToken() : null;
        } while (token != null);
        return new FolderListing(objects, folders);
    }

    private static ObjectInfo info(Location bucketRoot, S3Object object) {
        return new ObjectInfo(bucketRoot.resolve(object.key()), object.size(),
                object.lastModified() == null ? Instant.EPOCH : object.lastModified(),
                S3Store.etag(object.eTag()), null);
    }

    private ListObjectsV2Request request(String continuationToken) {
        return ListObjectsV2Request.builder()
                .bucket(prefix.bucket())
                .prefix(prefix.path())
                .maxKeys(pageSize)
                .continuationToken(continuationToken)
                .build();
    }

    private void accept(ListObjectsV2Response response) {
        page = response.contents().iterator();
        String token = response.nextContinuationToken();
        nextPage = Boolean.TRUE.equals(response.isTruncated()) && token != null
                ? store.client().listObjectsV2(request(token))
                : null;
    }

    @Override
    public boolean hasNext() throws IOException {
        while (next == null) {
            if (page.hasNext()) {
                S3Object object = page.next();
                String key = object.key();
                // Folder placeholders are not data; conditional-write probes are Ferry's own, and short-lived.
                if (key.endsWith("/") || key.startsWith(ConditionalWrites.PROBE_PREFIX)) {
                    continue;
                }
                next = info(bucketRoot, object);
            } else if (nextPage != null) {
                accept(store.await(nextPage, prefix, "list"));
            } else {
                return false;
            }
        }
        return true;
    }

    @Override
    public ObjectInfo next() throws IOException {
        if (!hasNext()) {
            throw new NoSuchElementException("no more objects under " + prefix);
        }
        ObjectInfo result = next;
        next = null;
        return result;
    }
}
