package dev.consort.plot;

import java.awt.Color;
import java.util.Locale;

/** A {@link Canvas} writing SVG 1.1 markup. */
final class SvgCanvas implements Canvas {

    private final StringBuilder svg = new StringBuilder();

    SvgCanvas(int width, int height, Color background) {
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"").append(width)
                .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width).append(' ')
                .append(height).append("\" font-family=\"").append(FONT_FAMILY).append(", Verdana, sans-serif\">\n");
        fillRect(0, 0, width, height, background);
    }

    /** The finished document; the canvas must not be drawn on afterwards. */
    String document() {
        return svg + "</svg>\n";
    }

    @Override
    public void fillRect(double x, double y, double width, double height, Color fill) {
        svg.append("<rect x=\"").append(number(x)).append("\" y=\"").append(number(y)).append("\" width=\"")
                .append(number(width)).append("\" height=\"").append(number(height)).append("\" fill=\"")
                .append(colour(fill)).append("\" shape-rendering=\"crispEdges\"/>\n"); // no seams between cells
    }

    @Override
    public void strokeRect(double x, double y, double width, double height, Color stroke, double lineWidth) {
        svg.append("<rect x=\"").append(number(x)).append("\" y=\"").append(number(y)).append("\" width=\"")
                .append(number(width)).append("\" height=\"").append(number(height))
                .append("\" fill=\"none\" stroke=\"").append(colour(stroke)).append("\" stroke-width=\"")
                .append(number(lineWidth)).append("\"/>\n");
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color stroke, double lineWidth, boolean dashed) {
        svg.append("<line x1=\"").append(number(x1)).append("\" y1=\"").append(number(y1)).append("\" x2=\"")
                .append(number(x2)).append("\" y2=\"").append(number(y2)).append("\" stroke=\"")
                .append(colour(stroke)).append("\" stroke-width=\"").append(number(lineWidth)).append('"');
        if (dashed) {
            svg.append(" stroke-dasharray=\"6 4\"");
        }
        svg.append("/>\n");
    }

    @Override
    public void polyline(double[] xs, double[] ys, Color stroke, double lineWidth) {
        svg.append("<polyline fill=\"none\" stroke=\"").append(colour(stroke)).append("\" stroke-width=\"")
                .append(number(lineWidth)).append("\" stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"");
        for (int i = 0; i < xs.length; i++) {
            svg.append(i == 0 ? "" : " ").append(number(xs[i])).append(',').append(number(ys[i]));
        }
        svg.append("\"/>\n");
    }

    @Override
    public void fillCircle(double centreX, double centreY, double radius, Color fill) {
        svg.append("<circle cx=\"").append(number(centreX)).append("\" cy=\"").append(number(centreY))
                .append("\" r=\"").append(number(radius)).append("\" fill=\"").append(colour(fill)).append("\"/>\n");
    }

    @Override
    public void text(String text, double x, double y, double size, boolean bold, Anchor anchor, double degrees,
                     Color fill) {
        svg.append("<text x=\"").append(number(x)).append("\" y=\"").append(number(y)).append("\" font-size=\"")
                .append(number(size)).append("\" fill=\"").append(colour(fill)).append("\" text-anchor=\"")
                .append(switch (anchor) {
                    case START -> "start";
                    case MIDDLE -> "middle";
                    case END -> "end";
                }).append('"');
        if (bold) {
            svg.append(" font-weight=\"bold\"");
        }
        if (degrees != 0) {
            svg.append(" transform=\"rotate(").append(number(degrees)).append(' ').append(number(x)).append(' ')
                    .append(number(y)).append(")\"");
        }
        svg.append('>').append(escaped(text)).append("</text>\n");
    }

    private static String number(double value) {
        return String.format(Locale.ROOT, "%.2f", value).replaceAll("\\.?0+$", "");
    }

    private static String colour(Color colour) {
        return String.format(Locale.ROOT, "#%02x%02x%02x", colour.getRed(), colour.getGreen(), colour.getBlue());
    }

    private static String escaped(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
