using Actors.HwBackend.Devices;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>Counts what an interrupt controller tells the device behind one of its inputs.</summary>
internal sealed class RecordingAcknowledgeListener : IInterruptAcknowledgeListener
{
    public int Acknowledgements { get; private set; }

    public int Unmasks { get; private set; }

    public void Acknowledged() => Acknowledgements++;

    public void Unmasked() => Unmasks++;
}
