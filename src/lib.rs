//! ConnectIT app.
