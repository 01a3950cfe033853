using System.Text;
using Actors.HwBackend.Worker;

namespace Actors.HwBackend.KvmConformance;

/// <summary>A VM's console, kept whole.</summary>
internal sealed class ConsoleCapture : IConsoleOutputSink
{
    private readonly MemoryStream _bytes = new();

    public byte[] Bytes
    {
        get
        {
            lock (_bytes)
                return _bytes.ToArray();
        }
    }

    public string Text => Encoding.ASCII.GetString(Bytes);

    /// <summary>The last 600 characters, for a failure message.</summary>
    public string Tail => Text.Length <= 600 ? Text : Text[^600..];

    public void OnOutput(long sequence, ReadOnlySpan<byte> data)
    {
        lock (_bytes)
            _bytes.Write(data);
    }
}
