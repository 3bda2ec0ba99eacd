package ferry.store;

import java.util.List;

/**
 * One level of a folder: the objects directly in it, and the names of the folders below it (without a trailing
 * slash), each in ascending key order. A file system answers this from one directory; S3 from a listing with the
 * delimiter {@code /}.
 */
public record FolderListing(List<ObjectInfo> objects, List<String> folders) {
    public FolderListing {
        objects = List.copyOf(objects);
        folders = List.copyOf(folders);
    }
}
