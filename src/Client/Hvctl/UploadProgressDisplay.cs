using System.Globalization;
using Actors.Client;

namespace Actors.Hvctl;

/// <summary>
/// Shows image uploads (<c>vm create</c>, <c>disk create --from</c>) on stderr: stdout carries the command's
/// one-line result, which scripts read. One <see cref="ProgressLine"/> per image, ended by a line that says what
/// was sent, and how fast, or that the store already had the image.
/// </summary>
internal sealed class UploadProgressDisplay(HvctlIo io, TimeProvider? time = null) : IProgress<ImageUploadProgress>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private ProgressLine? _line;
    private string? _image;
    private long _startedAt;

    public void Report(ImageUploadProgress value)
    {
        if (value.Image != _image)
        {
            _line?.End();
            _image = value.Image;
            _line = new ProgressLine(io.Error, io.ErrorIsTerminal, io.TerminalColumns, _time);
            _startedAt = _time.GetTimestamp();
        }

        ProgressLine line = _line!;
        TimeSpan elapsed = _time.GetElapsedTime(_startedAt);
        if (value.AlreadyStored)
        {
            line.End($"{value.Image}: {Size(value.TotalBytes)} already in the image store, nothing to send");
            _image = null;
            return;
        }

        if (value.Done)
        {
            line.End(string.Create(CultureInfo.InvariantCulture, $"{value.Image}: {Size(value.TotalBytes)} uploaded in {elapsed.TotalSeconds:0.0} s{Rate(value.BytesSent, elapsed)}"));
            _image = null;
            return;
        }

        double fraction = value.TotalBytes == 0 ? 1 : value.BytesSent / (double)value.TotalBytes;
        line.Report($"{value.Image}: {Size(value.BytesSent)} of {Size(value.TotalBytes)} sent{Rate(value.BytesSent, elapsed)}", fraction);
    }

    internal static string Size(long bytes) => bytes < 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0.0} MiB");

    private static string Rate(long bytes, TimeSpan elapsed) => elapsed.TotalSeconds < 0.05 || bytes == 0
        ? string.Empty
        : string.Create(CultureInfo.InvariantCulture, $", {bytes / elapsed.TotalSeconds / (1 << 20):0.0} MiB/s");
}
