"""Pure Plotly figure builders: data in, ``go.Figure`` out; they never call Streamlit."""
