package dev.consort.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.font.FontRenderContext;

/**
 * The few drawing operations the charts need, so that one layout draws both a PNG (Java2D) and an SVG.
 * Coordinates are pixels from the top-left corner; text is placed by its baseline.
 */
interface Canvas {

    /** Where a text's anchor point lies along it. */
    enum Anchor { START, MIDDLE, END }

    /** The charts' typeface: DejaVu Sans, which Debian's JDK pulls in through fontconfig. */
    String FONT_FAMILY = "DejaVu Sans";

    /** Width in pixels of {@code text} at {@code size}, the same for both outputs (SVG viewers may differ slightly). */
    static double textWidth(String text, double size, boolean bold) {
        Font font = new Font(FONT_FAMILY, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) size);
        return font.getStringBounds(text, new FontRenderContext(null, true, true)).getWidth();
    }

    void fillRect(double x, double y, double width, double height, Color fill);

    void strokeRect(double x, double y, double width, double height, Color stroke, double lineWidth);

    void line(double x1, double y1, double x2, double y2, Color stroke, double lineWidth, boolean dashed);

    /** An open polyline through the points. */
    void polyline(double[] xs, double[] ys, Color stroke, double lineWidth);

    void fillCircle(double centreX, double centreY, double radius, Color fill);

    /** Text rotated by {@code degrees} clockwise about its anchor (−90 reads bottom to top). */
    void text(String text, double x, double y, double size, boolean bold, Anchor anchor, double degrees, Color fill);
}
