namespace Actors.Grains.Network;

/// <summary>
/// One batch on its way to a port: the sink and NIC it goes to as they were when the batch was sorted
/// (a port that moves meanwhile gets the next batches at its new place), and what it carries, for the
/// port's counters once the delivery ends.
/// </summary>
internal readonly record struct FrameDelivery(PluggedPort To, INetworkPortSink Sink, int Nic, FrameBatch Frames, int Bytes);
