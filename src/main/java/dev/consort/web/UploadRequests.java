package dev.consort.web;

import jakarta.servlet.http.HttpServletRequest;

/** What counts as an upload for the upload limits: a multipart POST (checkpoints, datasets). */
public final class UploadRequests {

    private UploadRequests() {}

    public static boolean isUpload(HttpServletRequest request) {
        String contentType = request.getContentType();
        return "POST".equals(request.getMethod()) && contentType != null
                && contentType.regionMatches(true, 0, "multipart/", 0, 10);
    }
}
