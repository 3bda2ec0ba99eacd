package ferry.store;

import java.io.Closeable;
import java.io.IOException;
import java.util.Optional;

/**
 * A store of immutable objects addressed by {@link Location}: a local or network file system, or an
 * S3-compatible object store.
 *
 * <p>The interface is kept small on purpose so that a backend is easy to write and to test: one contract test
 * ({@code ferry.testing.StoreContractTest}) runs against every backend. Hierarchical and blob stores differ; the
 * methods below say how each behaves. Errors: a missing object is an {@link ObjectNotFoundException} naming its
 * location; every other failure is an {@link IOException} whose message names the location and, where possible,
 * what to do.
 */
public interface ObjectStore extends Closeable {
    /**
     * Returns what the store knows of one object.
     *
     * @throws ObjectNotFoundException if there is no object there (a local folder is not an object)
     */
    ObjectInfo stat(Location location) throws IOException;

    /** What the store knows of one object, or empty when there is no object there. */
    default Optional<ObjectInfo> find(Location location) throws IOException {
        try {
            return Optional.of(stat(location));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
    }

    /**
     * Lists every object whose location starts with {@code prefix}, recursively, in ascending key order. A prefix
     * that ends in {@code /} lists a folder; one that does not also matches siblings that share its beginning
     * ({@code s3://b/img} lists {@code img/a} and {@code img2/b}), on both kinds of store. Folder placeholders
     * (S3 keys ending in {@code /}) and Ferry's temporary files are not objects and are skipped. A prefix with
     * nothing under it yields an empty listing; a missing bucket is an error.
     */
    ObjectListing list(Location prefix) throws IOException;

    /**
     * Lists as {@link #list} does, but walks into a local folder's symbolic links to folders as if they were folders,
     * except a link to a folder that holds it (a loop) or one that leads into {@code destination} or around it (a
     * copy there would feed on itself): those are passed over. A store without links lists as {@link #list}.
     *
     * @param destination where the listed objects are to be copied, or null
     */
    default ObjectListing listFollowingLinks(Location prefix, Location destination) throws IOException {
        return list(prefix);
    }

    /**
     * Lists one level of the folder {@code folder} (a location ending in {@code /}, or a bucket root): the objects
     * directly in it and the folders below it, as a mount's {@code readdir} needs. Placeholders and temporary files
     * are skipped as in {@link #list}. A folder with nothing under it is empty, not an error (S3 has no folders);
     * a missing bucket is an error. The whole level is held in memory.
     */
    FolderListing listFolder(Location folder) throws IOException;

    /**
     * Copies an object to {@code target} in this store without its bytes leaving the store (S3's CopyObject), if the
     * store can and knows the object's CRC32C, which goes with the copy; the target is replaced at once, as a write
     * replaces it. Returns empty where the store cannot, and the caller then copies the bytes itself.
     *
     * @param source the object as listed; the copy is of that version, or fails
     * @throws ObjectNotFoundException if the source is gone
     * @throws StoreException if the source changed since it was listed
     */
    default Optional<ObjectInfo> copyWithin(ObjectInfo source, Location target) throws IOException {
        return Optional.empty();
    }

    /**
     * Opens the whole object for sequential reading with as few requests as the store allows.
     *
     * @throws ObjectNotFoundException if there is no object there
     */
    ObjectInputStream openStream(Location location) throws IOException;

    /**
     * Opens {@code length} bytes from {@code position} (fewer if the object ends first). Positional reads are the
     * primitive that read-ahead and caches are built on.
     */
    ObjectInputStream openStream(Location location, long position, long length) throws IOException;

    /**
     * Starts a new object that must not exist yet. The check happens at {@link ObjectOutput#commit()}, atomically
     * where the store allows it (an exclusive link locally, {@code If-None-Match: *} on S3).
     */
    ObjectOutput create(Location location, WriteOptions options) throws IOException;

    /** Starts a new object that replaces any existing one when committed. */
    ObjectOutput createOrOverwrite(Location location, WriteOptions options) throws IOException;

    /** Deletes one object. Deleting a missing object is not an error. */
    void delete(Location location) throws IOException;
}
