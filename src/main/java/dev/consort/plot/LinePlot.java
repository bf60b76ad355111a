package dev.consort.plot;

import java.awt.Color;
import java.awt.Rectangle;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;

/**
 * Series of (x, y) as lines, points or both on linear axes with ticks, axis labels, a legend and a title:
 * loss curves, merge loss against the fine-tuning step, merge loss against CKA. Non-finite values are
 * skipped (a line breaks there). Vertical markers point out x positions such as the critical step.
 */
public final class LinePlot extends Figure {

    /** How a series is drawn. */
    public enum Mark { LINE, POINTS, LINE_AND_POINTS }

    /**
     * A named series; {@code x} and {@code y} are copied and must have the same length. {@code low} and
     * {@code high}, when given (same length), draw an error bar at each point (a 95% interval, say); a
     * non-finite bound draws none there.
     */
    public record Series(String name, double[] x, double[] y, Mark mark, double[] low, double[] high) {
        public Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException("series " + name + " has " + x.length + " x and " + y.length + " y");
            }
            if ((low == null) != (high == null) || (low != null && (low.length != x.length || high.length != x.length))) {
                throw new IllegalArgumentException("series " + name + " needs a low and a high bound for every point");
            }
            x = x.clone();
            y = y.clone();
            low = low == null ? null : low.clone();
            high = high == null ? null : high.clone();
        }

        public Series(String name, double[] x, double[] y, Mark mark) {
            this(name, x, y, mark, null, null);
        }

        @Override
        public double[] x() {
            return x.clone();
        }

        @Override
        public double[] y() {
            return y.clone();
        }
    }

    /** A dashed vertical line at {@code x}, labelled at the top of the plot. */
    public record Marker(double x, String label) {}

    /** Matplotlib's "tab10" palette: distinct hues for up to ten series, then repeated. */
    static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf)};
    private static final Color GRID = new Color(0xe6, 0xe6, 0xe6);
    private static final int WIDTH = 720;
    private static final int HEIGHT = 450;
    private static final int MARGIN = 16;
    private static final double TITLE_SIZE = 16;
    private static final double LABEL_SIZE = 12;
    private static final double TICK_SIZE = 11;
    private static final int TICK_LENGTH = 4;
    private static final double LINE_WIDTH = 2;
    private static final double POINT_RADIUS = 3.5;
    private static final double ERROR_CAP = 4;

    private final String title;
    private final String xAxis;
    private final String yAxis;
    private final List<Series> series;
    private final List<Marker> markers;
    private final AxisScale xScale;
    private final AxisScale yScale;
    private final Rectangle plotArea;

    public LinePlot(String title, String xAxis, String yAxis, List<Series> series) {
        this(title, xAxis, yAxis, series, List.of());
    }

    public LinePlot(String title, String xAxis, String yAxis, List<Series> series, List<Marker> markers) {
        this.title = title;
        this.xAxis = xAxis;
        this.yAxis = yAxis;
        this.series = List.copyOf(series);
        this.markers = List.copyOf(markers);
        double[] xRange = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        double[] yRange = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (Series s : this.series) {
            for (int i = 0; i < s.x.length; i++) {
                if (Double.isFinite(s.x[i]) && Double.isFinite(s.y[i])) {
                    include(xRange, s.x[i]);
                    include(yRange, s.y[i]);
                    if (s.low != null && Double.isFinite(s.low[i]) && Double.isFinite(s.high[i])) {
                        include(yRange, s.low[i]);
                        include(yRange, s.high[i]);
                    }
                }
            }
        }
        for (Marker marker : this.markers) {
            if (Double.isFinite(marker.x())) {
                include(xRange, marker.x());
            }
        }
        xScale = AxisScale.covering(xRange[0], xRange[1], 8);
        yScale = AxisScale.covering(yRange[0], yRange[1], 6);

        double yLabels = 0;
        for (double tick : yScale.ticks()) {
            yLabels = Math.max(yLabels, Canvas.textWidth(yScale.label(tick), TICK_SIZE, false));
        }
        int left = MARGIN + (int) LABEL_SIZE + 10 + (int) Math.ceil(yLabels) + TICK_LENGTH + 4;
        int top = MARGIN + (int) TITLE_SIZE + 16;
        int bottom = HEIGHT - (MARGIN + (int) LABEL_SIZE + 10 + (int) TICK_SIZE + TICK_LENGTH + 6);
        int right = WIDTH - MARGIN - 8;
        plotArea = new Rectangle(left, top, right - left, bottom - top);
    }

    private static void include(double[] range, double value) {
        range[0] = Math.min(range[0], value);
        range[1] = Math.max(range[1], value);
    }

    @Override
    public int width() {
        return WIDTH;
    }

    @Override
    public int height() {
        return HEIGHT;
    }

    /** The rectangle the axes enclose. */
    public Rectangle plotArea() {
        return new Rectangle(plotArea);
    }

    /** Where the data point ({@code x}, {@code y}) is drawn. */
    public Point2D pixel(double x, double y) {
        return new Point2D.Double(plotArea.x + xScale.fraction(x) * plotArea.width,
                plotArea.y + plotArea.height - yScale.fraction(y) * plotArea.height);
    }

    /** The colour series {@code index} is drawn in. */
    public static Color colour(int index) {
        return PALETTE[index % PALETTE.length];
    }

    @Override
    void draw(Canvas canvas) {
        canvas.text(title, WIDTH / 2.0, MARGIN + TITLE_SIZE, TITLE_SIZE, true, Canvas.Anchor.MIDDLE, 0, INK);
        drawAxes(canvas);
        Rectangle2D legend = legendBox();
        for (Marker marker : markers) {
            Point2D at = pixel(marker.x(), yScale.max());
            canvas.line(at.getX(), plotArea.y, at.getX(), plotArea.y + plotArea.height, INK, 1, true);
            // Right of the line, unless that runs past the plot (a marker at the last step): then left of it;
            // at the top, unless the legend is there: then at the bottom.
            double width = Canvas.textWidth(marker.label(), TICK_SIZE, false);
            boolean fitsRight = at.getX() + 4 + width <= plotArea.x + plotArea.width;
            double left = fitsRight ? at.getX() + 4 : at.getX() - 4 - width;
            double baseline = plotArea.y + TICK_SIZE + 2;
            if (legend != null && legend.intersects(left, plotArea.y, width, TICK_SIZE + 4)) {
                baseline = plotArea.y + plotArea.height - 4;
            }
            canvas.text(marker.label(), fitsRight ? at.getX() + 4 : at.getX() - 4, baseline, TICK_SIZE,
                    false, fitsRight ? Canvas.Anchor.START : Canvas.Anchor.END, 0, INK);
        }
        for (int i = 0; i < series.size(); i++) {
            drawSeries(canvas, series.get(i), colour(i));
        }
        drawLegend(canvas, legend);
        canvas.strokeRect(plotArea.x - 0.5, plotArea.y - 0.5, plotArea.width + 1, plotArea.height + 1, INK, 1);
    }

    private void drawAxes(Canvas canvas) {
        int bottom = plotArea.y + plotArea.height;
        for (double tick : xScale.ticks()) {
            double x = pixel(tick, yScale.min()).getX();
            canvas.line(x, plotArea.y, x, bottom, GRID, 1, false);
            canvas.line(x, bottom + 0.5, x, bottom + 0.5 + TICK_LENGTH, INK, 1, false);
            canvas.text(xScale.label(tick), x, bottom + TICK_LENGTH + TICK_SIZE + 2, TICK_SIZE, false,
                    Canvas.Anchor.MIDDLE, 0, INK);
        }
        for (double tick : yScale.ticks()) {
            double y = pixel(xScale.min(), tick).getY();
            canvas.line(plotArea.x, y, plotArea.x + plotArea.width, y, GRID, 1, false);
            canvas.line(plotArea.x - 0.5, y, plotArea.x - 0.5 - TICK_LENGTH, y, INK, 1, false);
            canvas.text(yScale.label(tick), plotArea.x - TICK_LENGTH - 4, y + TICK_SIZE * 0.35, TICK_SIZE, false,
                    Canvas.Anchor.END, 0, INK);
        }
        canvas.text(xAxis, plotArea.x + plotArea.width / 2.0, HEIGHT - MARGIN, LABEL_SIZE, false,
                Canvas.Anchor.MIDDLE, 0, INK);
        canvas.text(yAxis, MARGIN + LABEL_SIZE, plotArea.y + plotArea.height / 2.0, LABEL_SIZE, false,
                Canvas.Anchor.MIDDLE, -90, INK);
    }

    private void drawSeries(Canvas canvas, Series s, Color colour) {
        if (s.mark() != Mark.POINTS) {
            List<Point2D> run = new ArrayList<>();
            for (int i = 0; i <= s.x.length; i++) {
                boolean finite = i < s.x.length && Double.isFinite(s.x[i]) && Double.isFinite(s.y[i]);
                if (finite) {
                    run.add(pixel(s.x[i], s.y[i]));
                } else {
                    drawRun(canvas, run, colour);
                    run.clear();
                }
            }
        }
        if (s.low != null) {
            for (int i = 0; i < s.x.length; i++) {
                if (Double.isFinite(s.x[i]) && Double.isFinite(s.low[i]) && Double.isFinite(s.high[i])) {
                    Point2D low = pixel(s.x[i], s.low[i]);
                    Point2D high = pixel(s.x[i], s.high[i]);
                    canvas.line(low.getX(), low.getY(), high.getX(), high.getY(), colour, 1.5, false);
                    canvas.line(low.getX() - ERROR_CAP, low.getY(), low.getX() + ERROR_CAP, low.getY(), colour, 1.5, false);
                    canvas.line(high.getX() - ERROR_CAP, high.getY(), high.getX() + ERROR_CAP, high.getY(), colour, 1.5,
                            false);
                }
            }
        }
        if (s.mark() != Mark.LINE) {
            for (int i = 0; i < s.x.length; i++) {
                if (Double.isFinite(s.x[i]) && Double.isFinite(s.y[i])) {
                    Point2D at = pixel(s.x[i], s.y[i]);
                    canvas.fillCircle(at.getX(), at.getY(), POINT_RADIUS, colour);
                }
            }
        }
    }

    private static void drawRun(Canvas canvas, List<Point2D> run, Color colour) {
        if (run.size() == 1) {
            canvas.fillCircle(run.get(0).getX(), run.get(0).getY(), LINE_WIDTH, colour);
        } else if (run.size() > 1) {
            canvas.polyline(run.stream().mapToDouble(Point2D::getX).toArray(),
                    run.stream().mapToDouble(Point2D::getY).toArray(), colour, LINE_WIDTH);
        }
    }

    /** Where the legend goes: the corner covering the fewest data points, top right first; null without series. */
    Rectangle2D legendBox() {
        if (series.isEmpty()) {
            return null;
        }
        double rowHeight = TICK_SIZE + 7;
        double widest = series.stream().mapToDouble(s -> Canvas.textWidth(s.name(), TICK_SIZE, false)).max().orElse(0);
        double boxWidth = 8 + 22 + 6 + widest + 8;
        double boxHeight = 6 + series.size() * rowHeight + 2;
        double[][] corners = {
                {plotArea.x + plotArea.width - boxWidth - 8, plotArea.y + 8},
                {plotArea.x + 8, plotArea.y + 8},
                {plotArea.x + plotArea.width - boxWidth - 8, plotArea.y + plotArea.height - boxHeight - 8},
                {plotArea.x + 8, plotArea.y + plotArea.height - boxHeight - 8}};
        double boxX = corners[0][0];
        double boxY = corners[0][1];
        long fewest = Long.MAX_VALUE;
        for (double[] corner : corners) {
            long covered = pointsWithin(corner[0], corner[1], boxWidth, boxHeight);
            if (covered < fewest) {
                fewest = covered;
                boxX = corner[0];
                boxY = corner[1];
            }
        }
        return new Rectangle2D.Double(boxX, boxY, boxWidth, boxHeight);
    }

    private void drawLegend(Canvas canvas, Rectangle2D box) {
        if (box == null) {
            return;
        }
        double rowHeight = TICK_SIZE + 7;
        double boxX = box.getX();
        double boxY = box.getY();
        double boxWidth = box.getWidth();
        double boxHeight = box.getHeight();
        canvas.fillRect(boxX, boxY, boxWidth, boxHeight, BACKGROUND);
        canvas.strokeRect(boxX, boxY, boxWidth, boxHeight, GRID.darker(), 1);
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            double y = boxY + 6 + i * rowHeight + rowHeight / 2;
            double sampleX = boxX + 8;
            if (s.mark() != Mark.POINTS) {
                canvas.line(sampleX, y, sampleX + 22, y, colour(i), LINE_WIDTH, false);
            }
            if (s.mark() != Mark.LINE) {
                canvas.fillCircle(sampleX + 11, y, POINT_RADIUS, colour(i));
            }
            canvas.text(s.name(), sampleX + 28, y + TICK_SIZE * 0.35, TICK_SIZE, false, Canvas.Anchor.START, 0, INK);
        }
    }

    private long pointsWithin(double x, double y, double width, double height) {
        long count = 0;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (Double.isFinite(s.x[i]) && Double.isFinite(s.y[i])) {
                    Point2D at = pixel(s.x[i], s.y[i]);
                    if (at.getX() >= x - 4 && at.getX() <= x + width + 4 && at.getY() >= y - 4
                            && at.getY() <= y + height + 4) {
                        count++;
                    }
                }
            }
        }
        return count;
    }
}
